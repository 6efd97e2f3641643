"""Our TFX components and the pure decisions they make.

`ExampleGate` (the data gate; its checks and limits in `validation`), the span resolvers
(`span_window`), `CuratedSchemaImporter`, `BlessedPusher`, and the content fingerprints that key
their caches (`fingerprint`). They run inside TFX executors, locally and in Kubeflow pods, so
they import only `models` and `metadata.names`/`metadata.verdicts` from this project.
"""
