"""The one way into ML Metadata: opening a store, reading it, and the few writes we make.

Everything else asks this package: the runner for the outcome of the run it just made (by its
run id, never "the newest run"), the CLI for runs, artifacts, lineage and diffs, the span
resolvers for the data gate's verdicts. Names of types, contexts, nodes and properties are
constants in `names`; results are dataclasses. TFX's orchestrators write the store themselves;
the only writes here are a run's facts (`writer`).
"""
