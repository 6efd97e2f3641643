"""The versions in the serving folder, as TF Serving sees them, loaded on demand.

A version is a numbered folder holding `saved_model.pb` (`components.pusher.served_versions`:
hidden staging folders and half-written pushes are not versions). The folder is listed again at
most every `refresh_seconds`, so a new push is served without a restart.
"""

from __future__ import annotations

import collections
import os
import threading
import time
from typing import Any

SIGNATURE = "serving_default"


class VersionNotFound(LookupError):
    pass


class ModelRepository:
    def __init__(self, serving_dir: str, refresh_seconds: float = 0.5, keep: int = 4):
        self.serving_dir = serving_dir
        self.refresh_seconds, self.keep = refresh_seconds, keep
        self._listed: list[int] = []
        self._listed_at = -float("inf")
        self._loaded: collections.OrderedDict[int, Any] = collections.OrderedDict()
        self._loading: dict[int, threading.Lock] = {}  # one per version being loaded
        self._lock = threading.Lock()

    def versions(self) -> list[int]:
        """Whole versions, oldest first."""
        from components.pusher import served_versions  # TFX: not for one-line errors

        now = time.monotonic()
        if now - self._listed_at >= self.refresh_seconds:
            self._listed, self._listed_at = served_versions(self.serving_dir), now
        return self._listed

    def resolve(self, version: int | None) -> int:
        """The version asked for, or the newest one."""
        versions = self.versions()
        if version is None:
            if not versions:
                raise VersionNotFound("no version in the serving folder yet")
            return versions[-1]
        if version not in versions:
            raise VersionNotFound(f"version {version} not found (versions: {versions or 'none'})")
        return version

    def path(self, version: int) -> str:
        return os.path.join(self.serving_dir, str(version))

    def model(self, version: int):
        """The version's SavedModel, loaded once; the `keep` most recently used stay loaded.
        Loading one version holds only requests for that version: the others keep being
        answered. Callers hold the model for the whole call (a signature alone does not keep
        its model alive)."""
        with self._lock:
            model = self._loaded.get(version)
            if model is not None:
                self._loaded.move_to_end(version)
        if model is None:
            with self._lock:
                loading = self._loading.setdefault(version, threading.Lock())
            with loading:
                model = self._loaded.get(version)
                if model is None:
                    import tensorflow as tf

                    model = tf.saved_model.load(self.path(version))
                    with self._lock:
                        self._loaded[version] = model
                        while len(self._loaded) > self.keep:
                            self._loaded.popitem(last=False)
        return model

    def scores(self, version: int, examples: list[bytes]) -> list[list[float]]:
        """The model's scores for serialized examples, a list per example."""
        import tensorflow as tf

        model = self.model(version)  # held until the call returns
        outputs = model.signatures[SIGNATURE](examples=tf.constant(examples))
        return outputs["scores"].numpy().tolist()

    def signature_def(self, version: int) -> dict:
        """The version's signatures as TF Serving's metadata call shows them."""
        from google.protobuf import json_format
        from tensorflow.core.protobuf import saved_model_pb2

        saved = saved_model_pb2.SavedModel()
        with open(os.path.join(self.path(version), "saved_model.pb"), "rb") as handle:
            saved.ParseFromString(handle.read())
        graph = saved.meta_graphs[0]
        return {
            name: json_format.MessageToDict(signature, preserving_proto_field_name=True)
            for name, signature in graph.signature_def.items()
            if not name.startswith("__")
        }
