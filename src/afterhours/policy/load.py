"""Read a policy file into a `Policy`, or fail with every problem located at file:line:column."""

from __future__ import annotations

import difflib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from afterhours.errors import PolicyError
from afterhours.policy import model
from afterhours.policy.limits import MAX_POLICY_BYTES, shape_problems, size_problem
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
        with Path(path).open("rb") as file:
            # Checked before reading it all: a runaway file must not cost its size in memory.
            too_big = size_problem(name, os.fstat(file.fileno()).st_size)
            if too_big:
                raise PolicyError([too_big])
            text = file.read(MAX_POLICY_BYTES + 1).decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError([f"{name}:1:1: cannot read policy: {error}"]) from None
    return LoadedPolicy(parse_policy(text, name), name, hashlib.sha256(text.encode()).hexdigest())


def parse_policy(text: str, name: str = "<policy>") -> Policy:
    """Validate policy YAML `text`; `name` prefixes the located messages."""
    too_big = size_problem(name, len(text.encode()))
    if too_big:
        raise PolicyError([too_big])
    root, data = _read_yaml(text, name)
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


class _Loader(yaml.SafeLoader):
    # PyYAML lets a few plain ValueErrors out of its constructors (2026-02-30, an integer
    # past Python's digit limit); give them the node's mark like any other YAML error.
    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as error:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value: {error}", node.start_mark
            ) from None


def _read_yaml(text: str, name: str) -> tuple[yaml.Node | None, Any]:
    # One pass builds both the nodes (for locations) and the data (for validation).
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as error:
        # Its str() runs over two lines; say where the character is, on one.
        line = text.count("\n", 0, error.position) + 1
        col = error.position - text.rfind("\n", 0, error.position)
        raise PolicyError([
            f"{name}:{line}:{col}: invalid YAML: unacceptable character #x{error.character:04x}:"
            " special characters are not allowed"
        ]) from None
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        looped = _cycle(root)
        if looped is not None:
            raise PolicyError([_at(name, looped.start_mark, "an alias refers to a node it is in")])
        too_long = shape_problems(name, root)
        if too_long:
            raise PolicyError(too_long)
        return root, loader.construct_document(root)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{mark.line + 1}:{mark.column + 1}" if mark else "1:1"
        problem = error.problem or error.context or "not YAML"
        raise PolicyError([f"{name}:{where}: invalid YAML: {_printable(problem)}"]) from None
    except yaml.YAMLError as error:
        raise PolicyError([f"{name}:1:1: invalid YAML: {_printable(str(error))}"]) from None
    except RecursionError:
        # The composer recurses once per level of nesting: `[[[[...` thousands deep.
        deep = _at(name, loader.get_mark(), "invalid YAML: nested too deeply")
        raise PolicyError([deep]) from None
    finally:
        loader.dispose()


def _at(name: str, mark: yaml.Mark, message: str) -> str:
    # Marks count from 0; editors and `file:line:col` readers count from 1.
    return f"{name}:{mark.line + 1}:{mark.column + 1}: {message}"


def _cycle(root: yaml.Node) -> yaml.Node | None:
    # `&a [*a]` composes into a node that contains itself; nothing downstream could walk it.
    finished: set[int] = set()
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        if leaving:
            on_path.discard(id(node))
            finished.add(id(node))
        elif id(node) in on_path:
            return node
        elif id(node) not in finished:
            on_path.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node))
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _printable(text: str) -> str:
    # One problem per line, whatever a key or value holds: escape line breaks and controls.
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _locate(name: str, root: yaml.Node, error: Any) -> str:
    loc = tuple(error["loc"])
    # A bad key (an unknown field, a weekday misspelt) is best shown at the key itself;
    # pydantic marks a key's own error with a trailing "[key]" (a field so named is just extra).
    on_key = len(loc) > 1 and loc[-1] == "[key]" and error["type"] != "extra_forbidden"
    if on_key:
        loc = loc[:-1]
    elif error["type"] == "invalid_key":
        # pydantic names a `null:` or `true:` key by str() of its value; find it by the value.
        loc, on_key = (*loc[:-1], error["input"]), True
    node, found, shown = _walk(root, loc, at_key=on_key or error["type"] == "extra_forbidden")
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        field = str(loc[-1])
        message = f"unknown field {field!r}"
        close = difflib.get_close_matches(field, _FIELD_NAMES, n=1)
        if close:
            message += f": did you mean {close[0]!r}?"
    elif error["type"] == "missing":
        message = f"missing required field {loc[-1]!r}"
    path = ".".join(str(p) for p in shown if not str(p).startswith("function-"))
    if path and not found:
        message = f"{path}: {message}"
    elif path:
        message = f"{message} (at {path})"
    return _at(name, node.start_mark, _printable(message))


def _walk(
    node: yaml.Node, loc: tuple[Any, ...], *, at_key: bool
) -> tuple[yaml.Node, bool, tuple[Any, ...]]:
    # Follow pydantic's error path through the YAML nodes; stop where the path leaves the file
    # (a missing field points at its parent mapping). Also return the path as the file has it.
    shown = list(loc)
    for index, part in enumerate(loc):
        if part == "rules" and isinstance(node, yaml.SequenceNode):
            # A block written in its short form, a plain list, has no `rules:` key.
            shown.remove("rules")
            continue
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if _is_key(k, part)), None)
            if pair is None:
                return node, False, tuple(shown)
            node = pair[0] if at_key and index == len(loc) - 1 else pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node, False, tuple(shown)
            node = node.value[part]
        else:
            return node, True, tuple(shown)
    return node, True, tuple(shown)


def _is_key(key: yaml.Node, part: Any) -> bool:
    if not isinstance(key, yaml.ScalarNode):
        return False
    if key.value == str(part):
        return True
    value = yaml.constructor.SafeConstructor().construct_object(key)
    return type(value) is type(part) and bool(value == part)


def _duplicate_keys(root: yaml.Node) -> list[tuple[int, int, str]]:
    # PyYAML keeps the last of two equal keys silently; a lead would lose a rule without a word.
    # Each node is looked at once, so aliases shared many times over cost nothing extra.
    found: list[tuple[int, int, str]] = []
    seen_nodes: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, _ in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in keys:
                        mark = key.start_mark
                        found.append(
                            (mark.line + 1, mark.column + 1, f"duplicate key {key.value!r}")
                        )
                    keys.add(key.value)
        stack.extend(reversed(_children(node)))
    return found


def _field_names() -> list[str]:
    names: set[str] = set()
    for item in vars(model).values():
        if isinstance(item, type) and issubclass(item, BaseModel):
            # What a lead writes: `all`, `in`, `from`, not the Python names behind them.
            names.update(f.alias or n for n, f in item.model_fields.items())
    return sorted(names)


_FIELD_NAMES = _field_names()
