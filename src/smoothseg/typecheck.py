"""Value-vs-annotation checks for config tables read from user files (TOML/JSON/YAML).

Frozen dataclass configs trust their fields' types; a user file can still hold ``lr = "fast"``
or ``max_epochs = 2.5``. :func:`check_types` names every such key before the dataclass is built,
instead of a ``TypeError`` deep inside a comparison.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any

from smoothseg.errors import SmoothsegError


def matches(value: Any, hint: Any) -> bool:
    """Whether ``value`` (as read from TOML/JSON/YAML) fits the annotation ``hint``.

    Lists stand for tuples; ints are accepted for floats; unknown annotations accept anything.
    """
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return True
    if hint is type(None) or hint is None:
        return value is None
    if origin is typing.Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return any(matches(value, a) for a in args)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(matches(v, args[0]) for v in value)
        if len(args) != len(value):
            return False
        return all(matches(v, a) for v, a in zip(value, args, strict=True))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return isinstance(value, (Mapping, hint))
    return True


def describe(hint: Any) -> str:
    """A short human name of an annotation (``float``, ``'cosine' or 'none'``, ...)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Literal:
        return " or ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(a) for a in args)
    if hint is type(None):
        return "none"
    if origin is tuple:
        inner = describe(args[0]) if args else "value"
        return f"a list of {inner}" + ("s" if not inner.endswith("s") else "")
    return getattr(hint, "__name__", str(hint))


def problems_of(data: Mapping[str, Any], cls: type, what: str) -> list[str]:
    """``table.key = value is not <type>`` for every misfit of ``data`` (nested tables too)."""
    hints = typing.get_type_hints(cls)
    out: list[str] = []
    for key, value in data.items():
        if key not in hints:
            continue
        hint = hints[key]
        if isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(value, Mapping):
            out += problems_of(value, hint, f"{what}.{key}")
        elif not matches(value, hint):
            out.append(f"{what}.{key} = {value!r} is not {describe(hint)}")
    return out


def check_types(data: Mapping[str, Any], cls: type, what: str, error: type[SmoothsegError]) -> None:
    """Raise ``error`` naming every key of ``data`` whose value does not fit ``cls``'s field.

    Args:
        data: One config table (keys already checked to be fields of ``cls``).
        cls: The dataclass the table builds.
        what: The table's name for the message (e.g. ``train``).
        error: The error type to raise.

    """
    problems = problems_of(data, cls, what)
    if problems:
        raise error("config values of the wrong type: " + "; ".join(problems))
