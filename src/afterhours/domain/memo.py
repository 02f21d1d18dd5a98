"""Memos keyed on an object's identity: what the planner works out once per policy part.

Policy models are frozen but not hashable (they hold lists and dicts), so `functools.cache`
cannot key on them. A memo here holds each key it knows, so an id is never reused while its
entry lives, and it forgets everything once it holds `limit` entries: a daemon has one policy
at a time, tests and property runs make thousands.

A memo is a plain function (a closure), not an object with `__call__`: it is asked several
times a plan, and calling an instance costs the interpreter a slot lookup and a bound call
that a function call does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def by_identity(make: Callable[[K], V], *, limit: int = 256) -> Callable[[K], V]:
    """`make(key)` worked out once per key object (by identity, never by equality)."""
    entries: dict[int, tuple[K, V]] = {}

    def value(key: K) -> V:
        found = entries.get(id(key))
        if found is not None and found[0] is key:
            return found[1]
        if len(entries) >= limit:
            entries.clear()
        made = make(key)
        entries[id(key)] = (key, made)
        return made

    return value
