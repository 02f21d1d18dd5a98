"""What a policy file may cost: runaway files and lists are refused before validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from afterhours.errors import PolicyError
from afterhours.policy import load_policy, parse_policy
from afterhours.policy.limits import MAX_LIST_ITEMS, MAX_POLICY_BYTES, MAX_VALUES

CLASSIC = Path(__file__).parents[1] / "fixtures" / "classic_policy.yaml"


def with_keywords(words: list[str]) -> str:
    """The classic policy with its billing keywords replaced by `words`, as a flow list."""
    text = CLASSIC.read_text(encoding="utf-8")
    billing = "[invoice, billing, refund, charge, charged, payment, subscription]"
    assert billing in text
    return text.replace(billing, "[" + ", ".join(words) + "]")


def problems(text: str, name: str = "policy.yaml") -> list[str]:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text, name)
    return raised.value.problems


def test_a_million_word_list_is_refused_by_size_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(with_keywords([f"word{n}" for n in range(1_200_000)]), encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    [problem] = raised.value.problems
    assert problem.startswith(f"{path}:1:1: the policy file is ")
    assert f"the limit is {MAX_POLICY_BYTES:,} (1 MiB): match on a tag" in problem


def test_a_list_past_the_limit_is_located_and_names_the_limit() -> None:
    [problem] = problems(with_keywords([f"w{n}" for n in range(MAX_LIST_ITEMS + 1)]))
    line = with_keywords(["w0"]).splitlines().index(
        next(x for x in with_keywords(["w0"]).splitlines() if "[w0]" in x)) + 1
    assert problem.startswith(f"policy.yaml:{line}:")
    assert f"this list has {MAX_LIST_ITEMS + 1:,} items; the limit is {MAX_LIST_ITEMS:,}" in problem


def test_a_list_at_the_limit_is_accepted() -> None:
    parse_policy(with_keywords([f"w{n}" for n in range(MAX_LIST_ITEMS)]))


def test_an_alias_bomb_is_refused_without_expanding_it() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [*a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1},"
              f" *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}]" for n in range(1, 9)]
    [problem] = problems("\n".join(lines) + "\nversion: 1\n")
    assert f"expands to more than {MAX_VALUES:,} values" in problem
