"""Loading the policy: the SOP file validates, and every problem is located at file:line:column."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from afterhours.errors import PolicyError
from afterhours.policy import load_policy, parse_policy

SOP_PATH = Path(__file__).parents[2] / "config" / "policy.yaml"
HEAD = "version: 1\nschedule:\n  time_zone: UTC\n  hours: {}\n"  # lines 1-4


def problems(text: str) -> list[str]:
    """The located problems `parse_policy` raises for `text`, named p.yaml."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "p.yaml")
    return caught.value.problems


def test_sop_policy_loads() -> None:
    loaded = load_policy(SOP_PATH)
    policy = loaded.policy
    assert loaded.path == str(SOP_PATH)
    assert len(loaded.sha256) == 64
    assert policy.schedule.time_zone == "Europe/London"
    assert date(2026, 12, 25) in policy.schedule.holidays
    assert [r.name for r in policy.priority_rules.rules] == ["p1-urgent", "p1-vip", "p2-normal"]
    assert [r.name for r in policy.routes.rules] == ["billing", "product-bug", "general-inquiry"]
    assert [e.name for e in policy.escalations.rules] == [
        "p1-after-hours", "reply-promise", "unresolved-24h"]
    assert set(policy.oncall) == {"support-leads"}
    assert set(policy.templates) == {"after-hours-ack", "fix-released"}
    assert set(policy.channels) == {"finance", "engineering", "oncall-lead", "support-lead"}
    assert policy.routes.rules[1].jira is not None
    assert policy.routes.rules[1].jira.project == "ENG"


def test_missing_file_is_located(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(PolicyError) as caught:
        load_policy(missing)
    assert caught.value.problems[0].startswith(f"{missing}:1:1: cannot read policy")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "version: 1\nschedule: [\n",
            ["p.yaml:3:1: invalid YAML: expected the node content, but found '<stream end>'"],
            id="invalid-yaml",
        ),
        pytest.param(
            "version: 1\nschedule:\n  time_zone: UTC\n   hours: {}\n",
            ["p.yaml:4:9: invalid YAML: mapping values are not allowed here"],
            id="bad-indentation",
        ),
        pytest.param(
            HEAD + "routes:\n  - name: billing\n    when:\n      prority: urgent\n",
            [
                "p.yaml:8:7: unknown field 'prority': did you mean 'priority'? "
                "(at routes.0.when.prority)"
            ],
            id="unknown-field-hint",
        ),
        pytest.param(
            HEAD + "routez: []\n",
            ["p.yaml:5:1: unknown field 'routez': did you mean 'routes'? (at routez)"],
            id="unknown-top-level",
        ),
        pytest.param(
            HEAD + "zzzz: 1\n",
            ["p.yaml:5:1: unknown field 'zzzz' (at zzzz)"],
            id="unknown-no-hint",
        ),
        pytest.param(
            "version: 1\nschedule:\n  time_zone: Mars/Olympus\n  hours: {}\n",
            [
                "p.yaml:3:14: unknown time zone 'Mars/Olympus': use an IANA name such as "
                "'Europe/London' (at schedule.time_zone)"
            ],
            id="bad-time-zone",
        ),
        pytest.param(
            "version: 1\nschedule:\n  time_zone: UTC\n  hours:\n"
            '    mon: ["09:00-12:00", "11:00-13:00"]\n',
            ["p.yaml:5:10: these hours overlap: 09:00-12:00 and 11:00-13:00; merge them into"
             " one range (at schedule.hours.mon)"],
            id="overlapping-hours",
        ),
        pytest.param(
            "version: 1\nschedule:\n  time_zone: UTC\n  hours:\n"
            '    tue: ["18:00-24:00", "20:00-21:00"]\n',
            ["p.yaml:5:10: these hours overlap: 18:00-24:00 and 20:00-21:00; merge them into"
             " one range (at schedule.hours.tue)"],
            id="overlap-after-midnight-range",
        ),
        pytest.param(
            "version: 1\nschedule:\n  time_zone: UTC\n  hours:\n"
            '    mon: ["09:00-17:00"]\n    wed: ["09:00-12:00", "11:00-13:00"]\n',
            ["p.yaml:6:10: these hours overlap: 09:00-12:00 and 11:00-13:00; merge them into"
             " one range (at schedule.hours.wed)"],
            id="overlap-points-at-its-day",
        ),
        pytest.param(
            "version: 1\nschedule:\n  time_zone: Europe/Londn\n  hours: {}\n",
            ["p.yaml:3:14: unknown time zone 'Europe/Londn': did you mean 'Europe/London'?"
             " (at schedule.time_zone)"],
            id="time-zone-did-you-mean",
        ),
        pytest.param(
            "version: 1\nschedule:\n  time_zone: america/new york\n  hours: {}\n",
            ["p.yaml:3:14: unknown time zone 'america/new york': did you mean"
             " 'America/New_York'? (at schedule.time_zone)"],
            id="time-zone-in-another-case",
        ),
        pytest.param(
            HEAD + 'routes:\n  - name: outage\n    when:\n      subject: {regex: "\\bdown\\b"}\n'
            "    tags: [x]\n",
            ["p.yaml:8:24: the regex holds a control character (\\b became a backspace):"
             " double-quoted YAML reads backslash escapes itself; write the regex in single"
             " quotes: regex: '\\bdown\\b' (at routes.0.when.subject.regex)"],
            id="regex-backspace-from-double-quotes",
        ),
        pytest.param(
            HEAD + "routes:\n  - name: outage\n    when:\n      subject: {regex: \"a\\x01b\"}\n"
            "    tags: [x]\n",
            ["p.yaml:8:24: the regex holds a control character (U+0001): double-quoted YAML"
             " reads backslash escapes itself; write the regex in single quotes:"
             " regex: 'a\\x01b' (at routes.0.when.subject.regex)"],
            id="regex-any-control-character",
        ),
        pytest.param(
            'version: 1\nschedule:\n  time_zone: UTC\n  hours:\n    mon: ["9-17"]\n',
            ["p.yaml:5:11: expected HH:MM-HH:MM, got '9-17' (at schedule.hours.mon.0)"],
            id="bad-range-format",
        ),
        pytest.param(
            'version: 1\nschedule:\n  time_zone: UTC\n  hours:\n    mon:\n      - "17:00-09:00"\n',
            [
                "p.yaml:6:9: a range must end after it starts (use 24:00 for midnight) "
                "(at schedule.hours.mon.0)"
            ],
            id="backwards-range",
        ),
        pytest.param(
            "version: 1\nschedule:\n  time_zone: UTC\n  hours: {}\n  time_zone: UTC\n",
            ["p.yaml:5:3: duplicate key 'time_zone'"],
            id="duplicate-key",
        ),
        pytest.param(
            "version: 1\nschedule:\n  hours: {}\n",
            ["p.yaml:3:3: schedule.time_zone: missing required field 'time_zone'"],
            id="missing-time-zone",
        ),
        pytest.param(
            HEAD + "priority_rules:\n  - name: a\n    tags: [x]\n",
            ["p.yaml:6:5: priority_rules.0.priority: missing required field 'priority'"],
            id="missing-priority",
        ),
        pytest.param(
            HEAD + "priority_rules:\n  - name: a\n    priority: critical\n",
            [
                "p.yaml:7:15: Input should be 'urgent', 'high', 'normal' or 'low' "
                "(at priority_rules.0.priority)"
            ],
            id="bad-priority-value",
        ),
        pytest.param(
            "- a\n- b\n",
            ["p.yaml:1:1: the policy must be a mapping starting 'version: 1'"],
            id="list-document",
        ),
        pytest.param(
            "just text\n",
            ["p.yaml:1:1: the policy must be a mapping starting 'version: 1'"],
            id="scalar-document",
        ),
        pytest.param(
            "", ["p.yaml:1:1: the policy must be a mapping starting 'version: 1'"], id="empty"
        ),
        pytest.param(
            "# only a comment\n",
            ["p.yaml:1:1: the policy must be a mapping starting 'version: 1'"],
            id="comment-only",
        ),
    ],
)
def test_problems_are_located(text: str, expected: list[str]) -> None:
    assert problems(text) == expected


def test_undeclared_channel_is_reported() -> None:
    text = HEAD + "channels:\n  ops: {}\nroutes:\n  - name: a\n    notify: nowhere\n"
    (found,) = problems(text)
    assert found.startswith("p.yaml:")
    assert found.endswith(
        "channel 'nowhere' is not declared; declared: ops (at routes.0.notify)"
    )


def test_duplicate_rule_names_are_reported() -> None:
    text = HEAD + "routes:\n  - name: a\n    when: {tags: [x]}\n  - name: b\nescalations:\n"
    text += "  - name: a\n"
    text += "    levels: [{after_minutes: 5, until: solved}]\n"
    (found,) = problems(text)
    assert found.startswith("p.yaml:")
    assert found.endswith(
        "rule name 'a' is used twice; names must be unique (at escalations.0.name)"
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param(
            HEAD + "channels:\n  ops: {}\nroutes:\n  - name: a\n    notify: nowhere\n",
            "p.yaml:9:",
            id="undeclared-channel-at-notify",
        ),
        pytest.param(
            HEAD + "routes:\n  - name: a\n    when: {tags: [x]}\n  - name: a\n",
            "p.yaml:8:",
            id="duplicate-name-at-second",
        ),
        pytest.param(
            HEAD + "routes:\n  - name: a\n    when:\n      when: true\n",
            "p.yaml:8:",
            id="key-named-like-its-parent",
        ),
    ],
)
def test_reference_errors_point_at_the_offending_line(text: str, where: str) -> None:
    (found,) = problems(text)
    assert found.startswith(where)


def test_several_errors_at_once() -> None:
    text = (
        "version: 2\n"
        "schedule:\n"
        "  time_zone: Nowhere/Zone\n"
        "  hours:\n"
        '    mon: ["bad"]\n'
        "  time_zone: UTC\n"
        "routez: []\n"
    )
    found = problems(text)
    assert [p.split(": ", 1)[0] for p in found] == [
        "p.yaml:6:3",
        "p.yaml:1:10",
        "p.yaml:5:11",
        "p.yaml:7:1",
    ]
    assert "duplicate key 'time_zone'" in found[0]
    assert "Input should be 1 (at version)" in found[1]
    assert "expected HH:MM-HH:MM" in found[2]
    assert "did you mean 'routes'?" in found[3]


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [
        pytest.param("09:00-17:30", time(9), time(17, 30), id="day"),
        pytest.param("18:00-24:00", time(18), time(0), id="to-midnight"),
        pytest.param("00:00-24:00", time(0), time(0), id="all-day"),
        pytest.param(" 08:15-09:45 ", time(8, 15), time(9, 45), id="padded"),
    ],
)
def test_time_ranges_parse(spec: str, start: time, end: time) -> None:
    text = f'version: 1\nschedule:\n  time_zone: UTC\n  hours:\n    mon: ["{spec}"]\n'
    policy = parse_policy(text)
    (parsed,) = next(iter(policy.schedule.hours.values()))
    assert (parsed.start, parsed.end) == (start, end)
