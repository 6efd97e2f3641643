"""Beam's DoFn method signatures inspected once per function, not once per bundle.

Beam 2.74's in-process runner builds a bundle processor for every stage it runs, and for
each DoFn in it looks at every method's signature twice (`userstate.get_dofn_specs`, through
`inspect.signature`, ~17 us a method): ~0.7 ms a DoFn, ~2,800 times in a cold taxi run, as
much as 2.5 s. A function's signature does not change, so `get_function_args_defaults` is
kept per function; a bound method's by its function, since binding drops the same first
argument whatever the instance. Anything else (a callable object, a builtin, a partial) is
inspected as before.
"""

from __future__ import annotations

import threading
import types
import weakref

from apache_beam.transforms import core

_INSPECT = core.get_function_args_defaults
_BOUND: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # function -> (args, defaults)
_PLAIN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()  # Beam's worker threads build bundle processors too


def _args_and_defaults(function):
    if isinstance(function, types.MethodType) and isinstance(function.__func__, types.FunctionType):
        known, key = _BOUND, function.__func__
    elif isinstance(function, types.FunctionType):
        known, key = _PLAIN, function
    else:
        return _INSPECT(function)
    with _LOCK:
        found = known.get(key)
    if found is None:
        found = _INSPECT(function)
        with _LOCK:
            known[key] = found
    args, defaults = found
    return list(args), list(defaults)  # the caller's own lists, as Beam hands out


def install() -> None:
    """Keep signatures in this process from now on (`core.get_function_arguments`, which
    every DoFnSignature calls, looks the function up in its module each time)."""
    core.get_function_args_defaults = _args_and_defaults


def installed() -> bool:
    return core.get_function_args_defaults is _args_and_defaults
