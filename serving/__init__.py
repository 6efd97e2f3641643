"""Serving the pushed model: TensorFlow Serving's REST API over the serving folder (`server`),
requests of raw feature values turned into `tf.Example`s by the curated schema (`examples`),
and the versions on disk (`repository`). Above `pipeline/` and `metadata/`, below `cli/`.
"""
