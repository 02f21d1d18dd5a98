"""What a policy file may cost: bounds checked before the file is validated.

A policy is a few KB. Without bounds, a pasted list of a million keywords (or a YAML alias
bomb) is accepted and costs a gigabyte and most of a minute on every hot reload, while the
daemon does nothing else. These limits are far above any real SOP and far below that.
"""

from __future__ import annotations

import yaml

MAX_POLICY_BYTES = 1024 * 1024
MAX_LIST_ITEMS = 5_000
MAX_VALUES = 200_000  # nodes after aliases are expanded, as validation would walk them

_ADVICE = ("match on a tag, an organization or a custom field instead of listing every value,"
           " or split the rule")


def size_problem(name: str, size: int) -> str | None:
    """The located problem with a policy of `size` bytes, if it is too big."""
    if size <= MAX_POLICY_BYTES:
        return None
    return (f"{name}:1:1: the policy file is {size:,} bytes; the limit is"
            f" {MAX_POLICY_BYTES:,} (1 MiB): {_ADVICE}")


def shape_problems(name: str, root: yaml.Node) -> list[str]:
    """Located problems with lists longer than MAX_LIST_ITEMS and documents that expand to
    more than MAX_VALUES nodes; stops counting at the limit, so it is cheap on any input."""
    problems: list[str] = []
    visited = 0
    stack = [root]
    while stack:
        node = stack.pop()
        visited += 1
        if visited > MAX_VALUES:
            problems.append(f"{name}:1:1: the policy expands to more than {MAX_VALUES:,} values"
                            f" (long lists, or aliases repeating them): {_ADVICE}")
            break
        if isinstance(node, yaml.SequenceNode):
            if len(node.value) > MAX_LIST_ITEMS:
                mark = node.start_mark
                problems.append(
                    f"{name}:{mark.line + 1}:{mark.column + 1}: this list has"
                    f" {len(node.value):,} items; the limit is {MAX_LIST_ITEMS:,}: {_ADVICE}")
                continue  # its items are not worth counting
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(part for pair in node.value for part in pair)
    return problems
