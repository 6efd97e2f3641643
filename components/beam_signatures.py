"""Beam's DoFn method signatures inspected once per function, not once per stage.

Beam 2.74's in-process runner builds a bundle processor for every stage it runs, and for
each DoFn in it looks at every method's signature twice (`userstate.get_dofn_specs`, through
`inspect.signature`, ~17 us a method, ~40 methods a DoFn): 2,767 DoFn inspections and
2.5-2.9 s in a cold taxi run. What `get_function_args_defaults` finds is kept per function
(a bound method's by its function: binding drops the same first argument whatever the
instance) together with what it was read from (code, defaults, `__signature__`,
`__wrapped__`), and found again only while those are the same objects. Anything else (a
callable object, a builtin, a partial) is inspected as before.
"""

from __future__ import annotations

import types
import weakref

from apache_beam.transforms import core

_INSPECT = core.get_function_args_defaults
# function -> (what the signature was read from, (args, defaults)); bound methods apart,
# since their first argument is dropped
_BOUND: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_PLAIN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _read_from(function: types.FunctionType) -> tuple:
    own = function.__dict__
    return (
        function.__code__,
        function.__defaults__,
        function.__kwdefaults__,
        own.get("__signature__"),
        own.get("__wrapped__"),
    )


def _args_and_defaults(function):
    if isinstance(function, types.MethodType) and isinstance(function.__func__, types.FunctionType):
        known, key = _BOUND, function.__func__
    elif isinstance(function, types.FunctionType):
        known, key = _PLAIN, function
    else:
        return _INSPECT(function)
    source = _read_from(key)
    found = known.get(key)
    if found is None or any(a is not b for a, b in zip(found[0], source, strict=True)):
        found = known[key] = (source, _INSPECT(function))
    args, defaults = found[1]
    return list(args), list(defaults)  # the caller's own lists, as Beam hands out


def install() -> None:
    """Keep signatures in this process from now on (`core.get_function_arguments`, which
    every DoFnSignature calls, looks the function up in its module each time). Processes
    Beam starts itself (`multi_processing`) inspect as before."""
    core.get_function_args_defaults = _args_and_defaults
