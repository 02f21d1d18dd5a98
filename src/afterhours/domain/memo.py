"""Memos keyed on an object's identity: what the planner works out once per policy part.

Policy models are frozen but not hashable (they hold lists and dicts), so `functools.cache`
cannot key on them. A memo here holds each key it knows, so an id is never reused while its
entry lives, and it forgets everything once it holds `limit` entries: a daemon has one policy
at a time, tests and property runs make thousands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ByIdentity(Generic[K, V]):
    """`make(key)` worked out once per key object (by identity, never by equality)."""

    def __init__(self, make: Callable[[K], V], *, limit: int = 256) -> None:
        self._make = make
        self._limit = limit
        self._entries: dict[int, tuple[K, V]] = {}

    def __call__(self, key: K) -> V:
        """The value for `key`, made on first use."""
        found = self._entries.get(id(key))
        if found is not None and found[0] is key:
            return found[1]
        if len(self._entries) >= self._limit:
            self._entries.clear()
        value = self._make(key)
        self._entries[id(key)] = (key, value)
        return value
