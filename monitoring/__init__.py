"""Watching the served model and closing the loop: the prediction log read back as traffic
(`traffic`), measured per time window, version and role against the training data, the
previous window and the schema's thresholds (`measures`), judged and put on record
(`monitor`), and labelled requests turned into a new span for the next run (`from_log`,
`retrain`). Above `serving/`, below `cli/`.
"""
