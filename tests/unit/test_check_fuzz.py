"""`afterhours check` on random and mutated YAML: exit 0 or 2, every line located, no traceback.

Each input is written to a file and checked in-process through `cli.main`, so an exception that
escapes the loader fails the test with its traceback, as it would have reached a support lead.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from afterhours.cli import main

SOP_TEXT = (Path(__file__).parents[2] / "config" / "policy.yaml").read_text(encoding="utf-8")
FIELDS = [
    "version", "schedule", "time_zone", "hours", "holidays", "channels", "description",
    "priority_rules", "routes", "escalations", "name", "when", "priority", "tags", "group",
    "notify", "note", "jira", "project", "issue_type", "labels", "levels", "after_minutes",
    "until", "clock", "keywords", "organizations", "requester_domains", "priorities",
    "after_hours", "mon", "sat", "[key]",
]  # fmt: skip
# Values that have each tripped a YAML or pydantic corner; the mutations splice them in.
ODD_VALUES = [
    "~", "[]", "{}", "yes", "no", "on", "-1", "0", "1.5", ".nan", "-.inf", "1e999", "0x1F",
    "2026-02-30", "2026-12-25 10:00:00", "9" * 5000, '"09:00-24:00"', '"24:00-09:00"',
    "&a [*a]", "*nowhere", "!!binary aGk=", "!!python/object:os.system x", "!!set {a}",
    "|", ">-", '"a\\nb"', "'\u2028'", "\"\\0\"", "{<<: 1}", "? [a]\n: b", "[[[[[[", "Mars/Olympus",
    "Europe/London", "urgent", "first_reply", "business", "ENG", "x" * 200,
]  # fmt: skip
LINE_BREAKS = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")  # what YAML counts as a new line


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    """One scratch directory for the whole module: hypothesis reruns a test many times."""
    with tempfile.TemporaryDirectory(prefix="afterhours-fuzz-") as name:
        yield Path(name)


def check(path: Path) -> tuple[int, str, str]:
    """Run `afterhours check PATH` in-process; return the exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["check", "--policy", str(path)])
    return code, out.getvalue(), err.getvalue()


def assert_checked(path: Path, text: str) -> int:
    """`check` ends in 0 with an ok line, or in 2 with every stderr line located in the file."""
    code, out, err = check(path)
    assert code in (0, 2), (code, out, err)
    if code == 0:
        assert err == ""
        assert out.startswith(f"{path}: ok (")
        return code
    lines = err.splitlines()
    assert lines, "exit 2 with nothing said"
    last_line = len(LINE_BREAKS.split(text)) + 1
    for line in lines:
        found = re.match(rf"{re.escape(str(path))}:(\d+):(\d+): \S", line)
        assert found, f"not located: {line!r}"
        assert 1 <= int(found[1]) <= last_line, line
        assert int(found[2]) >= 1, line
    assert "Traceback" not in err
    return code


def check_text(workdir: Path, text: str) -> int:
    """Write `text` as the policy file and check it."""
    path = workdir / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return assert_checked(path, text)


# Random documents: nested structures whose keys are mostly the policy's own field names, so
# validation goes past the first level, dumped by PyYAML in block or flow style.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.dates(min_value=date(1900, 1, 1)),
    st.sampled_from(["09:00-17:30", "18:00-24:00", "9-5", "UTC", "Europe/London", "ops", "1"]),
)
keys = st.one_of(st.sampled_from(FIELDS), st.text(max_size=8), st.integers(0, 3), st.none())
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=25,
)
policy_like = st.fixed_dictionaries(
    {"version": st.sampled_from([1, 2, "1", None])},
    optional=dict.fromkeys(FIELDS[1:10], documents),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=st.one_of(documents, policy_like), flow=st.booleans())
def test_random_yaml_is_checked_without_a_traceback(
    workdir: Path, document: Any, flow: bool
) -> None:
    text = yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True, sort_keys=False)
    check_text(workdir, text)


@st.composite
def mutated_sop(draw: st.DrawFn) -> str:
    """The shipped policy after one to four line or character mutations."""
    lines = SOP_TEXT.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        kind = draw(
            st.sampled_from(
                ["delete", "duplicate", "swap", "indent", "insert", "value", "truncate"]
            )
        )
        if kind == "delete":
            del lines[at]
        elif kind == "duplicate":
            lines.insert(at, lines[at])
        elif kind == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif kind == "indent":
            body = lines[at].lstrip(" ")
            lines[at] = draw(st.sampled_from(["", " ", "  ", "   ", "\t", "      "])) + body
        elif kind == "insert":
            cut = draw(st.integers(0, len(lines[at])))
            noise = draw(st.text(st.characters(codec="utf-8"), min_size=1, max_size=3))
            lines[at] = lines[at][:cut] + noise + lines[at][cut:]
        elif kind == "value":
            head, colon, _ = lines[at].partition(": ")
            if colon:
                lines[at] = f"{head}: {draw(st.sampled_from(ODD_VALUES))}\n"
        else:
            text = "".join(lines)
            return text[: draw(st.integers(0, len(text)))]
    return "".join(lines)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated_sop())
def test_mutated_policy_is_checked_without_a_traceback(workdir: Path, text: str) -> None:
    check_text(workdir, text)


@settings(max_examples=100, deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.binary(min_size=0, max_size=3)),
        min_size=1,
        max_size=4,
    )
)
def test_byte_mutations_are_checked_without_a_traceback(
    workdir: Path, edits: list[tuple[float, bytes]]
) -> None:
    data = bytearray(SOP_TEXT.encode())
    for where, replacement in edits:
        at = int(where * len(data))
        data[at : at + 1] = replacement  # replace one byte with 0-3 others
    path = workdir / "policy.yaml"
    path.write_bytes(bytes(data))
    assert_checked(path, bytes(data).decode("utf-8", errors="replace"))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\x00\x01binary", id="reader-error-was-two-lines"),
        pytest.param("version: 1\nschedule: &a\n  hours: *a\n", id="alias-cycle-recursed"),
        pytest.param("version: 1\nschedule: {hours: {mon: &a [*a]}}\n", id="alias-cycle-in-list"),
        pytest.param("version: 1\n" + "x: " + "[" * 3000 + "]" * 3000, id="deep-nesting-recursed"),
        pytest.param("version: 1\nx: " + "{a: " * 3000 + "1" + "}" * 3000, id="deep-mapping"),
        pytest.param('version: 1\n"a\\nb": 1\n', id="newline-in-key-split-the-line"),
        pytest.param('version: 1\nchannels: {"a\\u2028b": {}}\n', id="line-separator-in-key"),
        pytest.param("version: 1\nx: " + "9" * 5000 + "\n", id="int-past-digit-limit"),
        pytest.param("version: 1\nschedule: {holidays: [2026-02-30]}\n", id="impossible-date"),
        pytest.param("version: 1\nnull: 1\ntrue: 2\n", id="non-string-keys-at-1-1"),
        pytest.param(
            "version: 1\nschedule: {time_zone: UTC, hours: {funday: []}}\n", id="bad-weekday-key"
        ),
    ],
)
def test_regressions(workdir: Path, text: str) -> None:
    assert check_text(workdir, text) == 2


def test_regression_messages(workdir: Path) -> None:
    cases = {
        "\x00\x01binary": ":1:1: invalid YAML: unacceptable character #x0000",
        "version: 1\nschedule: &a\n  hours: *a\n": ":2:11: an alias refers to a node it is in",
        'version: 1\n"a\\nb": 1\n': ":2:1: unknown field 'a\\nb' (at a\\nb)",
        "version: 1\nschedule: {holidays: [2026-02-30]}\n": (
            ":2:23: invalid YAML: cannot read this value: day is out of range for month"
        ),
        "version: 1\nnull: 1\n": ":2:1: Keys should be strings (at None)",
        "version: 1\nschedule: {time_zone: UTC, hours: {funday: []}}\n": (
            ":2:36: Input should be 'mon', 'tue', 'wed', 'thu', 'fri', 'sat' or 'sun'"
            " (at schedule.hours.funday)"
        ),
    }
    path = workdir / "policy.yaml"
    for text, expected in cases.items():
        path.write_text(text, encoding="utf-8")
        code, _, err = check(path)
        assert code == 2
        assert any(line.startswith(f"{path}{expected}") for line in err.splitlines()), err


def test_shared_aliases_are_walked_once(workdir: Path) -> None:
    # Nine levels of nine aliases is 9**9 nodes when expanded; the check must not expand them.
    lines = ["version: 1", "x0: &x0 [a, a, a, a, a, a, a, a, a]"]
    lines += [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 9)}]" for i in range(1, 9)]
    lines.append("schedule: {time_zone: UTC, hours: {}}\nchannels: {ops: {description: *x8}}")
    assert check_text(workdir, "\n".join(lines) + "\n") == 2


@pytest.mark.parametrize("zone", ["America", "Europe", "a" * 300], ids=["dir", "dir2", "long"])
def test_time_zone_that_is_no_file(workdir: Path, zone: str) -> None:
    # ZoneInfo opened these as files and raised OSError past the validator (found truncating
    # "Europe/London" to "Europe").
    text = f"version: 1\nschedule: {{time_zone: {zone}, hours: {{}}}}\n"
    assert check_text(workdir, text) == 2


def test_the_shipped_policy_passes(workdir: Path) -> None:
    assert check_text(workdir, SOP_TEXT) == 0
