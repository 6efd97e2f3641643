"""`tfxp`: the parser made of each noun's commands, and the one place errors become exit codes."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import traceback
import warnings

from cli import (
    artifacts,
    data,
    diff,
    exits,
    lineage,
    models,
    monitor,
    render,
    report,
    run,
    runs,
    schema,
    serve,
    show,
    spec,
    store,
    validate,
)
from pipeline.progress import Interruption

NOUNS = (
    run,
    validate,
    schema,
    data,
    spec,
    runs,
    artifacts,
    show,
    lineage,
    diff,
    store,
    serve,
    models,
    monitor,
    report,
)


def quiet_logs(verbose: bool = False) -> None:
    """Keep TensorFlow's, TFX's and Google clients' chatter out of the user's terminal (all
    of it comes back with `--verbose`). TensorFlow reads its level when first imported, which
    the commands do later, lazily; level 3 also silences the cuFFT/cuDNN/cuBLAS lines."""
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # deprecation notices from TFMA
    logging.getLogger("absl").setLevel(logging.ERROR)  # TFX's notices; a run reports its own
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="tensorflow_model_analysis")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="tfxp", description="Run, check, inspect and ship the tfxp TFX pipeline."
    )
    top.add_argument("--version", action="version", version=f"tfxp {_version()}")
    top.add_argument(
        "--verbose", action="store_true", help="let TensorFlow, TFX and Beam log as they do"
    )
    commands = top.add_subparsers(dest="command", required=True)
    for noun in NOUNS:
        noun.register(commands)
    return top


def _interrupted() -> int:
    render.user_error("interrupted; the next run closes what this one left")
    return exits.EXIT_INTERRUPTED


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tfxp")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    """The command line's `tfxp` (no `argv`: this process's own arguments, and the process
    ends here), or one command run in this process, its exit code returned (`argv`)."""
    code = _command(argv)
    if argv is None:
        _end_process(code)
    return code


def _end_process(code: int) -> None:
    """End the process now when TensorFlow is loaded and nothing else runs: Python would
    otherwise take TensorFlow's, Beam's and TFX's modules apart one by one, 1.7 s after a run
    for nothing (every file is closed and every record committed by then). A live thread that
    is not a daemon is waited for, as Python does, by ending the usual way."""
    if "tensorflow" not in sys.modules or any(
        t.is_alive() and not t.daemon
        for t in threading.enumerate()
        if t is not threading.main_thread()
    ):
        return
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # the reader went away: nothing more to tell it
            pass
    os._exit(code)


def _command(argv: list[str] | None) -> int:
    args = parser().parse_args(argv)
    quiet_logs(args.verbose)
    Interruption.listen()
    try:
        code = args.handle(args)
        sys.stdout.flush()  # a reader that went away is found here, not at exit
        return code
    except exits.user_errors() as err:
        render.user_error(err)
        return exits.EXIT_USER_ERROR
    except KeyboardInterrupt:
        return _interrupted()
    except BrokenPipeError:  # the reader went away (`tfxp runs | head`): nothing to say to it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exits.EXIT_BROKEN_PIPE
    except Exception as err:
        if Interruption.seen:
            return _interrupted()
        line = exits.environment_error(err)
        if line is None:
            raise
        if os.environ.get("TFXP_DEBUG"):  # the whole story, for a fault that is not one
            traceback.print_exc()
        render.user_error(line)
        return exits.EXIT_USER_ERROR
