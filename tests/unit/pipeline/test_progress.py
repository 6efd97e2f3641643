"""During a run, TFX's own start and end messages become progress calls, and the libraries'
other log lines stay out of the terminal unless `--verbose`."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from absl import logging as absl_logging

from pipeline.progress import Interruption, component_progress


def _tfx_says() -> None:
    """What TFX 1.16's local runner and launcher log around one component, and what a
    library inside it does to absl's verbosity."""
    absl_logging.info("Component %s is running.", "Trainer")
    absl_logging.set_verbosity(absl_logging.WARNING)
    absl_logging.warning("ArtifactQuery.property_predicate is not supported.")
    absl_logging.error("Execution %d failed.", 7)
    absl_logging.info("Component %s is finished.", "Trainer")


def test_component_start_and_end_are_reported_and_the_rest_is_quiet(capsys):
    steps = []
    with component_progress(lambda node, event, seconds: steps.append((node, event, seconds))):
        _tfx_says()
    assert [(node, event) for node, event, _ in steps] == [
        ("Trainer", "started"),
        ("Trainer", "finished"),
    ]
    assert steps[1][2] >= 0.0
    captured = capsys.readouterr()
    assert "property_predicate" not in captured.err + captured.out
    assert "Execution 7 failed" not in captured.err + captured.out


def test_verbose_passes_every_record_on_and_the_logger_is_restored(capsys):
    absl = logging.getLogger("absl")
    before = absl.level, absl.propagate, list(absl.handlers)
    handler = logging.StreamHandler()
    logging.getLogger().addHandler(handler)
    try:
        with component_progress(lambda *step: None, verbose=True):
            _tfx_says()
    finally:
        logging.getLogger().removeHandler(handler)
    assert "property_predicate" in capsys.readouterr().err
    assert (absl.level, absl.propagate, list(absl.handlers)) == before


def test_after_the_run_absl_is_as_quiet_as_before_it(capsys):
    """The level is restored through setLevel: set as a bare attribute, the loggers' cached
    `isEnabledFor` answers from the run stayed, and INFO lines printed after every run."""
    absl = logging.getLogger("absl")
    saved = absl.level
    absl.setLevel(logging.ERROR)
    try:
        with component_progress(lambda *step: None):
            absl_logging.info("Component %s is running.", "Trainer")
        assert not absl.isEnabledFor(logging.INFO)
        absl_logging.info("MetadataStore with DB connection initialized")
    finally:
        absl.setLevel(saved)
    captured = capsys.readouterr()
    assert "MetadataStore" not in captured.err + captured.out


def test_a_ctrl_c_a_library_swallowed_stops_the_run_at_the_next_component():
    """A real SIGINT to this process, caught by a broad handler as a library might; the run
    is not let go on past the next component's start or end."""
    steps = []
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # as a terminal gives it
    Interruption.listen()
    try:
        with component_progress(lambda node, event, seconds: steps.append((node, event))):
            absl_logging.info("Component %s is running.", "Trainer")
            try:
                signal.raise_signal(signal.SIGINT)  # the handler runs before this returns
            except BaseException:  # what a careless library does
                pass
            with pytest.raises(KeyboardInterrupt):
                absl_logging.info("Component %s is finished.", "Trainer")
    finally:
        signal.signal(signal.SIGINT, before)
        Interruption.seen = False
        if Interruption._hooks is not None:  # this process's hooks as they were
            sys.excepthook, sys.unraisablehook = Interruption._hooks
            Interruption._hooks = None
    assert steps == [("Trainer", "started")]


_C_CODE_PRINTS = """
import ctypes, signal, sys
from pipeline.progress import Interruption

def c_code_catches_and_prints(error):
    # What C code does with a Python error it catches and drops (TensorFlow's nest.flatten
    # did, mid-training): PyRun_SimpleString prints it with PyErr_Print and returns -1.
    assert ctypes.pythonapi.PyRun_SimpleString(f"raise {error!r}".encode()) == -1

class DroppedInAFinaliser:
    def __del__(self):
        raise KeyboardInterrupt

Interruption.listen()
c_code_catches_and_prints(KeyboardInterrupt("before any Ctrl-C"))
try:
    signal.raise_signal(signal.SIGINT)
except KeyboardInterrupt:
    pass
c_code_catches_and_prints(KeyboardInterrupt("after the Ctrl-C"))
DroppedInAFinaliser()
c_code_catches_and_prints(ValueError("a real fault"))
"""


def test_after_a_ctrl_c_no_library_prints_the_interrupt_but_other_errors_still_show():
    """A process of its own: the hooks are the process's, and C code prints to its stderr."""
    done = subprocess.run(
        [sys.executable, "-c", _C_CODE_PRINTS],
        cwd=Path(__file__).parents[3],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "before any Ctrl-C" in done.stderr
    assert "after the Ctrl-C" not in done.stderr
    assert "DroppedInAFinaliser" not in done.stderr
    assert "ValueError: a real fault" in done.stderr
    assert done.stderr.count("Traceback") == 2
