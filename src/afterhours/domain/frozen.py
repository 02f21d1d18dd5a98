"""Frozen dataclasses that are quick to make: the planner makes a score of small ones a plan.

A frozen dataclass's generated `__init__` sets each field through `object.__setattr__` (to get
past its own refusing `__setattr__`), and that costs more than all the rest of making the object.
`quick_init` gives such a class an `__init__` with the same parameters and defaults that writes
the new instance's dictionary directly; the class stays frozen once made.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    """Give the frozen dataclass `cls` an `__init__` that fills its fields directly (same
    parameters and defaults; a field with a default factory is not supported)."""
    params: list[str] = []
    sets: list[str] = []
    defaults: dict[str, object] = {"__name__": cls.__module__}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.default_factory is not dataclasses.MISSING or not field.init:
            raise TypeError(f"{cls.__name__}.{field.name}: quick_init takes plain fields only")
        if field.default is dataclasses.MISSING:
            params.append(field.name)
        else:
            defaults[f"_default_{field.name}"] = field.default
            params.append(f"{field.name}=_default_{field.name}")
        sets.append(f"    fields[{field.name!r}] = {field.name}")
    source = "\n".join([f"def __init__(self, {', '.join(params)}):",
                        "    fields = self.__dict__", *sets])
    namespace: dict[str, object] = {}
    exec(source, defaults, namespace)  # noqa: S102  (our own source, made of field names)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    setattr(cls, "__init__", init)  # noqa: B010  (mypy refuses a method assigned directly)
    return cls
