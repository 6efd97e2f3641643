"""Exit codes, from one table.

0 done (a model that misses its thresholds is a result, not an error); 2 a mistake the user or
the environment can make (bad config, profile, schema, data folder, store, id, a non-portable
pipeline, an unreachable endpoint), reported as one line; 3 the data gate stopped the run, or
`tfxp validate` found problems; 1 anything else: a bug, with its traceback.
"""

from __future__ import annotations

from pipeline.outcome import Result

EXIT_OK = 0
EXIT_USER_ERROR = 2
EXIT_FINDINGS = 3


class UsageError(ValueError):
    """An argument the parser accepted but the command cannot use; one line."""


# A run's exit code by what it ended in.
RUN_EXIT_CODES = {
    Result.PUSHED: EXIT_OK,
    Result.ALREADY_SERVING: EXIT_OK,
    Result.NOT_BLESSED: EXIT_OK,
    Result.CHECKED_IN: EXIT_OK,
    Result.STOPPED_AT_GATE: EXIT_FINDINGS,
}


def findings_exit_code(findings: list) -> int:
    return EXIT_FINDINGS if findings else EXIT_OK


def user_errors() -> tuple[type[Exception], ...]:
    """Every exception kind that is the user's or the environment's doing, not a bug."""
    from cli.render import OutputError
    from datatools.synth import SynthError
    from kubeflow.compile import PortabilityError
    from kubeflow.submit import SubmitError
    from metadata.store import MetadataError
    from pipeline.config import ConfigError
    from pipeline.schema import SchemaError
    from pipeline.spans import DataError

    return (
        ConfigError,
        SchemaError,
        DataError,
        PortabilityError,
        SubmitError,
        MetadataError,
        SynthError,
        OutputError,
        UsageError,
    )
