"""`tfxp serve`: the pushed model over TensorFlow Serving's REST API, on loopback by default;
`tfxp predict --csv FILE`: the same model on a file, no server."""

from __future__ import annotations

from cli import CONFIG_HELP, DEFAULT_CONFIG, exits, render


def register(commands) -> None:
    serve = commands.add_parser(
        "serve", help="serve the pushed model over TensorFlow Serving's REST API"
    )
    serve.add_argument("--config", default=DEFAULT_CONFIG, help=CONFIG_HELP)
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: loopback only)"
    )
    serve.add_argument("--port", type=int, default=8501, help="TF Serving's REST port: 8501")
    serve.set_defaults(handle=handle)

    predict = commands.add_parser("predict", help="score a CSV file with the served model")
    predict.add_argument("--csv", required=True, help="rows of raw feature values, a header line")
    predict.add_argument("--version", type=int, default=None, help="default: the live version")
    predict.add_argument("--output", default=None, help="default: FILE.scored.csv beside it")
    predict.add_argument("--config", default=DEFAULT_CONFIG, help=CONFIG_HELP)
    predict.set_defaults(handle=handle_predict)


def handle(args) -> int:
    from pipeline.config import load_config
    from pipeline.schema import read_schema, with_label_classes
    from serving.examples import RequestSchema
    from serving.prediction_log import PredictionLog, predictions_dir
    from serving.repository import ModelRepository
    from serving.server import answer_classes, run

    config = load_config(args.config)
    schema = read_schema(config.schema_file)
    config = with_label_classes(schema, config)
    features = [f.name for f in config.model.features]
    request = RequestSchema.from_schema(schema, features)
    repository = ModelRepository(str(config.serving_dir))
    log = PredictionLog(predictions_dir(config.serving_dir))
    render.serving_started(config.name, repository, args.host, args.port)
    classes = answer_classes(config.model.label)
    run(config.name, repository, request, log, args.host, args.port, classes)
    return exits.EXIT_OK


def handle_predict(args) -> int:
    import pathlib

    from pipeline.config import load_config
    from pipeline.schema import read_schema, with_label_classes
    from serving.batch import score_csv
    from serving.deployment import read_state
    from serving.examples import RequestSchema
    from serving.repository import ModelRepository

    config = load_config(args.config)
    schema = read_schema(config.schema_file)
    config = with_label_classes(schema, config)
    features = [f.name for f in config.model.features]
    request = RequestSchema.from_schema(schema, features)
    repository = ModelRepository(str(config.serving_dir))
    live = read_state(config.serving_dir).live_version(repository.versions())
    version = repository.resolve(args.version if args.version is not None else live)
    source = pathlib.Path(args.csv)
    output = pathlib.Path(args.output) if args.output else source.with_suffix(".scored.csv")
    classes = config.model.label.classes  # a multiclass model's: a score column each
    rows = score_csv(source, output, repository, request, version, config.na_values, classes)
    render.written([output], f" ({rows} rows scored by version {version})")
    return exits.EXIT_OK
