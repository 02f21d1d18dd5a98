"""The policy's JSON Schema: in step with the model, true to `check`, and useful on hover."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from afterhours.cli import main
from afterhours.errors import PolicyError
from afterhours.policy import parse_policy
from afterhours.policy.model import TimeRange
from afterhours.policy.schema import SCHEMA_DIALECT, policy_schema, render_schema

ROOT = Path(__file__).parents[2]
SCHEMA_PATH = ROOT / "schema" / "policy.schema.json"
SOP_PATH = ROOT / "config" / "policy.yaml"
REGENERATE = "afterhours schema > schema/policy.schema.json"
VALIDATOR = jsonschema.Draft202012Validator(policy_schema())
HEAD = "version: 1\nschedule: {time_zone: UTC, hours: {}}\n"


class EditorLoader(yaml.SafeLoader):
    """YAML read as an editor's language server reads it: dates stay text (YAML 1.2)."""


EditorLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if not tag.endswith(":timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def schema_errors(text: str) -> list[jsonschema.ValidationError]:
    """What an editor would underline in `text`."""
    data = yaml.load(text, Loader=EditorLoader)  # noqa: S506 (EditorLoader is a SafeLoader)
    return list(VALIDATOR.iter_errors(data))


def check_accepts(text: str) -> bool:
    """Whether `afterhours check` would pass `text`."""
    try:
        parse_policy(text)
    except PolicyError:
        return False
    return True


def test_the_committed_schema_is_up_to_date() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema(), (
        f"{SCHEMA_PATH.relative_to(ROOT)} is out of date with the policy model: run `{REGENERATE}`"
    )


def test_afterhours_schema_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert printed == render_schema()
    assert json.loads(printed)["$schema"] == SCHEMA_DIALECT


def test_it_is_a_valid_draft_2020_12_schema() -> None:
    schema = policy_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"]
    assert schema["title"]
    jsonschema.Draft202012Validator.check_schema(schema)


def test_the_shipped_policy_validates() -> None:
    assert schema_errors(SOP_PATH.read_text(encoding="utf-8")) == []


def test_the_shipped_policy_names_the_schema_on_its_first_line() -> None:
    first = SOP_PATH.read_text(encoding="utf-8").splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    assert (SOP_PATH.parent / first.removeprefix(prefix)).resolve() == SCHEMA_PATH.resolve()


def _properties(node: Any, where: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            found.append((f"{where}/{name}", sub))
        for key, value in node.items():
            found += _properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _properties(value, f"{where}/{index}")
    return found


def test_every_field_says_what_it_is_for() -> None:
    # The description is what a lead sees on hover; a bare field name helps nobody.
    fields = _properties(policy_schema())
    assert len(fields) > 40
    bare = [where for where, sub in fields if len(sub.get("description", "")) < 15]
    assert bare == []


HOURS = "version: 1\nschedule: {time_zone: UTC, hours: %s}\n"
LEVEL = HEAD + "escalations: [{name: a, levels: [{%s}]}]\n"
BROKEN = [
    ("unknown-field", HEAD + "routez: []", [], "additionalProperties"),
    ("version", HEAD.replace("1", "2"), ["version"], "const"),
    ("no-schedule", "version: 1", [], "required"),
    ("zone-not-text", HEAD.replace("UTC", "5"), ["schedule", "time_zone"], "type"),
    ("weekday", HOURS % "{funday: []}", ["schedule", "hours"], "additionalProperties"),
    ("range-format", HOURS % "{mon: ['9-17']}", ["schedule", "hours", "mon", 0], "pattern"),
    ("starts-at-24", HOURS % "{mon: ['24:00-09:00']}", ["schedule", "hours", "mon", 0], "pattern"),
    ("minute-60", HOURS % "{mon: ['09:60-10:00']}", ["schedule", "hours", "mon", 0], "pattern"),
    ("holidays", HOURS % "{}, holidays: 2026-12-25", ["schedule", "holidays"], "type"),
    ("channel-name", HEAD + "channels: {Finance: {}}", ["channels"], "pattern"),
    ("webhook", HEAD + "channels: {ops: {url: x}}", ["channels", "ops"], "additionalProperties"),
    ("priority", HEAD + "priority_rules: [{name: a, priority: critical}]",
     ["priority_rules", 0, "priority"], "enum"),
    ("rule-name", HEAD + "priority_rules: [{name: A, priority: low}]",
     ["priority_rules", 0, "name"], "pattern"),
    ("no-priority", HEAD + "priority_rules: [{name: a}]", ["priority_rules", 0], "required"),
    ("misspelt", HEAD + "priority_rules: [{name: a, priority: low, when: {prority: x}}]",
     ["priority_rules", 0, "when"], "additionalProperties"),
    ("tag", HEAD + "priority_rules: [{name: a, priority: low, tags: [two words]}]",
     ["priority_rules", 0, "tags", 0], "pattern"),
    ("jira-project", HEAD + "routes: [{name: a, jira: {project: eng}}]",
     ["routes", 0, "jira", "project"], "pattern"),
    ("blank-keyword", HEAD + "routes: [{name: a, when: {keywords: ['  ']}}]",
     ["routes", 0, "when", "keywords", 0], "pattern"),
    ("after-hours", HEAD + "routes: [{name: a, when: {after_hours: maybe}}]",
     ["routes", 0, "when", "after_hours"], "anyOf"),
    ("no-levels", HEAD + "escalations: [{name: a, levels: []}]", ["escalations", 0, "levels"],
     "minItems"),
    ("negative-minutes", LEVEL % "after_minutes: -5, until: solved",
     ["escalations", 0, "levels", 0, "after_minutes"], "minimum"),
    ("fraction", LEVEL % "after_minutes: 5.5, until: solved",
     ["escalations", 0, "levels", 0, "after_minutes"], "type"),
    ("until", LEVEL % "after_minutes: 5, until: reply", ["escalations", 0, "levels", 0, "until"],
     "enum"),
    ("clock", LEVEL % "after_minutes: 5, until: solved, clock: wall",
     ["escalations", 0, "levels", 0, "clock"], "enum"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "path", "keyword"), [pytest.param(*case[1:], id=case[0]) for case in BROKEN]
)
def test_a_broken_policy_fails_the_schema_and_check(
    text: str, path: list[str | int], keyword: str
) -> None:
    errors = schema_errors(text)
    assert errors
    best = jsonschema.exceptions.best_match(errors)
    assert (list(best.absolute_path), best.validator) == (path, keyword)
    assert not check_accepts(text)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(HEAD + "routes: [{name: a}, {name: a}]\n", id="duplicate-rule-name"),
        pytest.param(HEAD + "routes: [{name: a, notify: nowhere}]\n", id="undeclared-channel"),
        pytest.param(
            "version: 1\nschedule: {time_zone: UTC, hours: {mon: ['09:00-12:00', '11:00-13:00']}}",
            id="overlapping-hours",
        ),
        pytest.param(
            "version: 1\nschedule: {time_zone: UTC, hours: {mon: ['17:00-09:00']}}",
            id="range-ends-before-it-starts",
        ),
        pytest.param("version: 1\nschedule: {time_zone: Mars/Olympus, hours: {}}", id="zone"),
        pytest.param(HEAD + "routes: []\nroutes: []\n", id="duplicate-key"),
    ],
)
def test_what_only_check_knows(text: str) -> None:
    # docs/editor.md lists these: the editor is quiet, `afterhours check` is not.
    assert schema_errors(text) == []
    assert not check_accepts(text)


@settings(max_examples=150, deadline=None)
@given(
    text=st.one_of(
        st.from_regex(r"\A[ \t]?[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2}[ \t]?\Z"),
        st.from_regex(r"\A[0-2][0-9]:[0-5][0-9]-[0-2][0-9]:[0-5][0-9]\Z"),
        st.text(alphabet="0123456789:- ", max_size=13),
    )
)
def test_the_range_pattern_accepts_what_the_model_parses(text: str) -> None:
    try:
        TimeRange.model_validate(text)
        parsed = True
    except ValueError as error:
        # Order is a cross-field rule the pattern cannot see; `check` reports it.
        parsed = "must end after it starts" in str(error)
    pattern = jsonschema.Draft202012Validator(policy_schema()["$defs"]["TimeRange"])
    assert pattern.is_valid(text) is parsed


ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata"]
TAGS = st.sampled_from(["p1", "vip", "billing", "from-zendesk", "team:ops"])
CHANNELS = ["ops", "leads"]


@st.composite
def day_ranges(draw: st.DrawFn) -> list[str]:
    """Ordered, non-overlapping HH:MM-HH:MM ranges, some to 24:00."""
    cuts = sorted(draw(st.sets(st.integers(0, 24 * 4), max_size=4)))
    clock = [f"{q // 4:02d}:{q % 4 * 15:02d}" if q < 96 else "24:00" for q in cuts]
    return [f"{a}-{b}" for a, b in zip(clock[::2], clock[1::2], strict=False) if a < b]


def matches() -> st.SearchStrategy[dict[str, Any]]:
    """Every condition a `when` may hold."""
    words = st.lists(st.sampled_from(["outage", "data loss", "refund"]), min_size=1)
    # Keywords always: a rule with no condition in a first-match block hides those after it,
    # which `check` refuses as "can never match".
    return st.fixed_dictionaries(
        {"keywords": words},
        optional={
            "organizations": st.lists(st.sampled_from(["Globex", "Acme"])),
            "requester_domains": st.lists(st.sampled_from(["globex.com"])),
            "tags": st.lists(TAGS),
            "channels": st.lists(st.sampled_from(["email", "web"])),
            "priorities": st.lists(st.sampled_from(["urgent", "high", "normal", "low"])),
            # after_hours: false on a schedule with no hours can never match; check says so.
            "after_hours": st.just(True) | st.none(),
        },
    )


@st.composite
def canonical_policies(draw: st.DrawFn) -> dict[str, Any]:
    """Valid policies written the documented way, with every field in play."""
    names = iter(f"rule-{i}" for i in range(100))
    notify = st.sampled_from(CHANNELS) | st.none()
    rule = {"tags": st.lists(TAGS)}
    until = st.sampled_from(["first_reply", "solved"])
    levels = st.fixed_dictionaries(
        {"after_minutes": st.integers(1, 10_000), "until": until},
        optional={"clock": st.sampled_from(["calendar", "business"]), "notify": notify,
                  "group": st.just("Leads"), "tags": st.lists(TAGS)},
    )  # fmt: skip
    jira = st.fixed_dictionaries(
        {"project": st.sampled_from(["ENG", "OPS_2"])},
        optional={"issue_type": st.just("Task"), "labels": st.lists(TAGS)},
    )
    return {
        "version": 1,
        "schedule": {
            "time_zone": draw(st.sampled_from(ZONES)),
            "hours": draw(st.dictionaries(st.sampled_from(["mon", "fri", "sun"]), day_ranges())),
            "holidays": [d.isoformat() for d in draw(st.lists(st.dates()))],
        },
        "channels": {name: {"description": f"#{name}"} for name in CHANNELS},
        "priority_rules": [
            {"name": next(names), "priority": draw(st.sampled_from(["urgent", "low"])),
             "when": draw(matches())}
            | draw(st.fixed_dictionaries({}, optional=rule))
            for _ in range(draw(st.integers(0, 3)))
        ],
        "routes": [
            {"name": next(names), "when": draw(matches())}
            | draw(
                st.fixed_dictionaries(
                    {},
                    optional=rule
                    | {
                        "group": st.just("Finance"),
                        "notify": notify,
                        "note": st.just("Seen overnight."),
                        "jira": jira,
                    },
                )
            )
            for _ in range(draw(st.integers(0, 3)))
        ],
        "escalations": [
            {"name": next(names), "levels": draw(st.lists(levels, min_size=1, max_size=3))}
            | draw(st.fixed_dictionaries({}, optional={"when": matches()}))
            for _ in range(draw(st.integers(0, 2)))
        ],
    }


@settings(max_examples=100, deadline=None)
@given(policy=canonical_policies())
def test_the_editor_never_underlines_a_policy_check_accepts(policy: dict[str, Any]) -> None:
    text = yaml.safe_dump(policy, sort_keys=False)
    assert check_accepts(text)
    assert schema_errors(text) == []
