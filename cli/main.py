"""`tfxp`: the parser made of each noun's commands, and the one place errors become exit codes."""

from __future__ import annotations

import argparse
import logging
import os
import signal
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
    run,
    runs,
    schema,
    serve,
    show,
    spec,
    store,
    validate,
)

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
)


def quiet_logs() -> None:
    """Keep TensorFlow's and Google clients' start-up chatter out of the user's terminal."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # deprecation notices from TFMA
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="tfxp", description="Run, check, inspect and ship the tfxp TFX pipeline."
    )
    commands = top.add_subparsers(dest="command", required=True)
    for noun in NOUNS:
        noun.register(commands)
    return top


class _Interrupts:
    """Ctrl-C, noted before it is raised: TensorFlow's C++ code can turn the KeyboardInterrupt
    raised inside it into another error (a bare TypeError from `nest.flatten` was seen), and
    whatever escapes after a Ctrl-C is the interruption, not a bug."""

    seen = False

    @classmethod
    def listen(cls) -> None:
        cls.seen = False
        if (
            threading.current_thread() is threading.main_thread()  # signals go there only
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler  # not ignored
        ):
            signal.signal(signal.SIGINT, cls._on_interrupt)

    @classmethod
    def _on_interrupt(cls, signum, frame):
        cls.seen = True
        raise KeyboardInterrupt


def _interrupted() -> int:
    render.user_error("interrupted; the next run closes what this one left")
    return exits.EXIT_INTERRUPTED


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    quiet_logs()
    _Interrupts.listen()
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
        if _Interrupts.seen:
            return _interrupted()
        line = exits.environment_error(err)
        if line is None:
            raise
        if os.environ.get("TFXP_DEBUG"):  # the whole story, for a fault that is not one
            traceback.print_exc()
        render.user_error(line)
        return exits.EXIT_USER_ERROR
