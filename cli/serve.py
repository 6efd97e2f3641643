"""`tfxp serve`: the pushed model over TensorFlow Serving's REST API, on loopback by default."""

from __future__ import annotations

from cli import DEFAULT_CONFIG, exits, render


def register(commands) -> None:
    serve = commands.add_parser(
        "serve", help="serve the pushed model over TensorFlow Serving's REST API"
    )
    serve.add_argument("--config", default=DEFAULT_CONFIG)
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: loopback only)"
    )
    serve.add_argument("--port", type=int, default=8501, help="TF Serving's REST port: 8501")
    serve.set_defaults(handle=handle)


def handle(args) -> int:
    from pipeline.config import load_config
    from pipeline.schema import read_schema
    from serving.examples import RequestSchema
    from serving.repository import ModelRepository
    from serving.server import run

    config = load_config(args.config)
    features = [f.name for f in config.model.features]
    request = RequestSchema.from_schema(read_schema(config.schema_file), features)
    repository = ModelRepository(str(config.serving_dir))
    render.serving_started(config.name, repository, args.host, args.port)
    run(config.name, repository, request, args.host, args.port)
    return exits.EXIT_OK
