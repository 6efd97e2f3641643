"""Tools for the data before and beside the pipeline: `tfxp validate` (one file against the
curated schema, the label limits and a span), `tfxp data synth` (spans with drift injected on
purpose), `tfxp schema infer` (a candidate schema for review), the one CSV reader they share,
and TFDV statistics read as ExampleGen reads.
"""
