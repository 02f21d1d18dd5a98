"""Read a policy file into a `Policy`, or fail with every problem located at file:line:column."""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from afterhours.errors import PolicyError
from afterhours.policy import model
from afterhours.policy.model import Policy


@dataclass(frozen=True)
class LoadedPolicy:
    """A validated policy with where it came from and the hash that identifies this version."""

    policy: Policy
    path: str
    sha256: str


def load_policy(path: str | Path) -> LoadedPolicy:
    """Read and validate the policy at `path`; raise PolicyError listing every problem."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError([f"{name}:1:1: cannot read policy: {error}"]) from None
    return LoadedPolicy(parse_policy(text, name), name, hashlib.sha256(text.encode()).hexdigest())


def parse_policy(text: str, name: str = "<policy>") -> Policy:
    """Validate policy YAML `text`; `name` prefixes the located messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{mark.line + 1}:{mark.column + 1}" if mark else "1:1"
        raise PolicyError([f"{name}:{where}: invalid YAML: {error.problem}"]) from None
    except yaml.YAMLError as error:
        raise PolicyError([f"{name}:1:1: invalid YAML: {error}"]) from None
    if root is None or not isinstance(data, dict):
        raise PolicyError([f"{name}:1:1: the policy must be a mapping starting 'version: 1'"])
    problems = [f"{name}:{line}:{col}: {msg}" for line, col, msg in _duplicate_keys(root)]
    try:
        policy = Policy.model_validate(data)
    except ValidationError as error:
        problems += [_locate(name, root, e) for e in error.errors()]
    if problems:
        raise PolicyError(problems)
    return policy


def _locate(name: str, root: yaml.Node, error: Any) -> str:
    loc = tuple(error["loc"])
    node, found = _walk(root, loc, at_key=error["type"] == "extra_forbidden")
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        field = str(loc[-1])
        message = f"unknown field {field!r}"
        close = difflib.get_close_matches(field, _FIELD_NAMES, n=1)
        if close:
            message += f": did you mean {close[0]!r}?"
    elif error["type"] == "missing":
        message = f"missing required field {loc[-1]!r}"
    path = ".".join(str(p) for p in loc if not str(p).startswith("function-"))
    if path and not found:
        message = f"{path}: {message}"
    elif path:
        message = f"{message} (at {path})"
    mark = node.start_mark
    return f"{name}:{mark.line + 1}:{mark.column + 1}: {message}"


def _walk(node: yaml.Node, loc: tuple[Any, ...], *, at_key: bool) -> tuple[yaml.Node, bool]:
    # Follow pydantic's error path through the YAML nodes; stop where the path leaves the file
    # (a missing field points at its parent mapping).
    for index, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            match = next((k for k, v in node.value if k.value == str(part)), None)
            if match is None:
                return node, False
            value = next(v for k, v in node.value if k is match)
            # An unknown key is best shown at the key itself, a wrong value at the value.
            node = match if at_key and index == len(loc) - 1 else value
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node, False
            node = node.value[part]
        else:
            return node, True
    return node, True


def _duplicate_keys(node: yaml.Node) -> list[tuple[int, int, str]]:
    # PyYAML keeps the last of two equal keys silently; a lead would lose a rule without a word.
    found: list[tuple[int, int, str]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:
                mark = key.start_mark
                found.append((mark.line + 1, mark.column + 1, f"duplicate key {key.value!r}"))
            seen.add(key.value)
            found += _duplicate_keys(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found += _duplicate_keys(item)
    return found


def _field_names() -> list[str]:
    names: set[str] = set()
    for item in vars(model).values():
        if isinstance(item, type) and issubclass(item, BaseModel):
            names.update(item.model_fields)
    return sorted(names)


_FIELD_NAMES = _field_names()
