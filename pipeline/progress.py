"""Live progress of a local run, and the libraries' log lines kept out of the way.

TFX's local runner says, at INFO on the `absl` logger, when each component starts and
finishes; everything else TFX, TFMA and Beam say there during a run (41 `property_predicate`
notices, payload-format fallbacks, an `Execution N failed.` for an expected gate stop) is not
for the person at the terminal. While a run goes, the `absl` logger's records go to one
handler: the start and end of each component become calls of `on_step`, and with `verbose`
every record is also passed on as before; without it, the rest are dropped (the run's outcome
and any crash are reported by `tfxp` itself). Those starts and ends are also where a Ctrl-C
that a library swallowed stops the run (`Interruption`).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator

STARTED, FINISHED = "started", "finished"
_MESSAGES = {"Component %s is running.": STARTED, "Component %s is finished.": FINISHED}


class Interruption:
    """Ctrl-C, noted before it is raised. Libraries do not always let the KeyboardInterrupt
    through: TensorFlow's C++ code can turn it into another error (a bare TypeError from
    `nest.flatten` was seen), and one raised in a finaliser or a library's broad handler is
    lost (CI once saw a Ctrl-C during the Trainer end in a pushed model and exit 0). So
    whatever escapes after a Ctrl-C is the interruption, and a run that goes on regardless is
    stopped at the next component's start or end (`component_progress`).

    C++ code that catches the KeyboardInterrupt may print it before dropping it (TensorFlow's
    `nest.flatten` did, through `PyErr_Print`: a traceback above tfxp's one line). Those
    printers go through `sys.excepthook` and `sys.unraisablehook`, so after a Ctrl-C both
    stay silent about a KeyboardInterrupt; anything else they print as before."""

    seen = False
    _hooks: tuple | None = None  # Python's own excepthook and unraisablehook, kept once

    @classmethod
    def listen(cls) -> None:
        cls.seen = False
        if (
            threading.current_thread() is threading.main_thread()  # signals go there only
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler  # not ignored
        ):
            signal.signal(signal.SIGINT, cls._on_interrupt)
            if cls._hooks is None:
                cls._hooks = sys.excepthook, sys.unraisablehook
                sys.excepthook, sys.unraisablehook = cls._excepthook, cls._unraisablehook

    @classmethod
    def _on_interrupt(cls, signum, frame):
        cls.seen = True
        raise KeyboardInterrupt

    @classmethod
    def _excepthook(cls, kind, value, traceback):
        if not (cls.seen and issubclass(kind, KeyboardInterrupt)):
            cls._hooks[0](kind, value, traceback)

    @classmethod
    def _unraisablehook(cls, unraisable):
        if not (cls.seen and isinstance(unraisable.exc_value, KeyboardInterrupt)):
            cls._hooks[1](unraisable)


class _StepHandler(logging.Handler):
    def __init__(self, on_step: Callable[[str, str, float], None], passed_on: list):
        super().__init__(logging.DEBUG)
        self.on_step, self.passed_on, self.started = on_step, passed_on, {}

    def emit(self, record: logging.LogRecord) -> None:
        event = _MESSAGES.get(record.msg) if isinstance(record.msg, str) else None
        if event is not None and record.args:
            if Interruption.seen:  # a Ctrl-C some library swallowed: no further step
                raise KeyboardInterrupt
            node = str(record.args[0])
            now = time.monotonic()
            if event == STARTED:
                self.started[node] = now
            self.on_step(node, event, now - self.started.get(node, now))
        for handler in self.passed_on:  # --verbose: what the libraries said, as before
            if record.levelno >= handler.level:
                handler.handle(record)


@contextlib.contextmanager
def component_progress(
    on_step: Callable[[str, str, float], None], verbose: bool = False
) -> Iterator[None]:
    """Within: each component's start and end reported to `on_step(node, event, seconds)`."""
    absl = logging.getLogger("absl")
    saved = absl.level, absl.propagate, list(absl.handlers)
    passed_on = (
        [h for logger in (absl, logging.getLogger()) for h in logger.handlers] if verbose else []
    )
    handler = _StepHandler(on_step, passed_on)
    absl.handlers = [handler]
    absl.setLevel(logging.INFO)
    absl.propagate = False
    # Transform's and the Trainer's libraries set absl's verbosity back to WARNING mid-run
    # (the start of the Trainer then went unreported): the level holds until the run ends.
    absl.setLevel = lambda level: None
    try:
        yield
    finally:
        del absl.setLevel  # the class's own again
        absl.propagate, absl.handlers = saved[1], saved[2]
        absl.setLevel(saved[0])  # through setLevel: it clears the loggers' cached levels
