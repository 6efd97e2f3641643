"""An ML Metadata gRPC service on 127.0.0.1 over a store file, for tests.

The `metadata_store_server` binary Kubeflow deploys is not on PyPI; this serves the same gRPC
API (ml_metadata's own service definition) by handing each call to a real store, so a client
given `--mlmd-grpc` goes through the gRPC code path Kubeflow users hit.
"""

from __future__ import annotations

import contextlib
import pathlib
from collections.abc import Iterator
from concurrent import futures

import grpc
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2, metadata_store_service_pb2

_SERVICE = "ml_metadata.MetadataStoreService"


@contextlib.contextmanager
def serving(store_file: pathlib.Path) -> Iterator[str]:
    """Serve `store_file` read-only; yields HOST:PORT."""
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(store_file)
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    store = metadata_store.MetadataStore(config)
    service = metadata_store_service_pb2.DESCRIPTOR.services_by_name["MetadataStoreService"]
    handlers = {}
    for method in service.methods:
        request_class = getattr(metadata_store_service_pb2, method.input_type.name)
        response_class = getattr(metadata_store_service_pb2, method.output_type.name)

        def call(request, context, name=method.name, response_class=response_class):
            response = response_class()
            try:
                store._call(name, request, response)  # the store's own dispatch by name
            except Exception as err:  # the client sees the status a real server would send
                code = getattr(err, "error_code", None)
                status = grpc.StatusCode.NOT_FOUND if code == 5 else grpc.StatusCode.INTERNAL
                context.abort(status, str(err))
            return response

        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            call,
            request_deserializer=request_class.FromString,
            response_serializer=response_class.SerializeToString,
        )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(_SERVICE, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None)
