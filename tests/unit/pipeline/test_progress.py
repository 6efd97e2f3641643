"""During a run, TFX's own start and end messages become progress calls, and the libraries'
other log lines stay out of the terminal unless `--verbose`."""

from __future__ import annotations

import logging

from absl import logging as absl_logging

from pipeline.progress import component_progress


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
