"""`afterhours explain` and `afterhours replay` against the Zendesk twin: they read, never write."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from afterhours.adapters.state import SqliteState
from afterhours.cli import main
from afterhours.clock import utc_now
from afterhours.twins.zendesk import ZendeskTwin

pytestmark = pytest.mark.integration

POLICY = Path(__file__).parents[1] / "fixtures" / "classic_policy.yaml"
FRIDAY_NIGHT = datetime(2026, 11, 20, 22, 40, tzinfo=UTC)
WEDNESDAY_MORNING = datetime(2026, 11, 18, 10, tzinfo=UTC)


@pytest.fixture
def tickets(zendesk: ZendeskTwin) -> dict[str, int]:
    """A few tickets of one week: an outage, a refund (solved since), a daytime question, and
    one from two weeks before."""
    for group in ("Support", "Finance", "Engineering", "Support Leads"):
        zendesk.add_group(group)
    globex = zendesk.add_organization("Globex")["id"]
    alice = zendesk.add_user("Alice", "alice@globex.com", organization_id=globex)["id"]
    bob = zendesk.add_user("Bob", "bob@initech.com")["id"]
    agent = zendesk.add_user("Sam", "sam@acme.example", role="agent")["id"]
    outage = zendesk.create_ticket(subject="Production API is down", description="503s",
                                   requester_id=alice, created_at=FRIDAY_NIGHT)["id"]
    refund = zendesk.create_ticket(subject="Refund please", description="charged twice",
                                   requester_id=bob, created_at=FRIDAY_NIGHT)["id"]
    zendesk.agent_update(refund, status="solved", author_id=agent)
    question = zendesk.create_ticket(subject="How do I export?", description="Thanks",
                                     requester_id=bob, created_at=WEDNESDAY_MORNING)["id"]
    older = zendesk.create_ticket(subject="Old invoice", description="from before",
                                  requester_id=bob,
                                  created_at=datetime(2026, 11, 5, 22, tzinfo=UTC))["id"]
    # Changed this week, so the export lists it; replay must still leave it out.
    zendesk.agent_update(older, status="open", author_id=agent)
    return {"outage": outage, "refund": refund, "question": question, "older": older}


@pytest.fixture
def state_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zendesk: ZendeskTwin) -> Path:
    """Settings for the inspect commands: the twin, the SOP policy, a state file not there."""
    state = tmp_path / "state.sqlite3"
    for name, value in {
        "ZENDESK_URL": zendesk.base_url, "ZENDESK_EMAIL": "bot@example.com",
        "ZENDESK_TOKEN": "zd-secret-token", "POLICY_FILE": str(POLICY),
        "STATE_DB": str(state), "LOG_FORMAT": "json",
    }.items():
        monkeypatch.setenv(f"AFTERHOURS_{name}", value)
    return state


def only_reads(twin: ZendeskTwin) -> bool:
    """Whether every request the twin served was a GET."""
    return bool(twin.server.requests) and all(
        endpoint.startswith("GET ") for endpoint in twin.server.requests)


def test_explain_prints_verdicts_deadlines_and_plan_and_acts_on_nothing(
    zendesk: ZendeskTwin, tickets: dict[str, int], state_db: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    at = (FRIDAY_NIGHT + timedelta(minutes=90)).isoformat()
    assert main(["explain", str(tickets["outage"]), "--at", at]) == 0
    out = capsys.readouterr().out
    for expected in (
        f"Ticket #{tickets['outage']} “Production API is down”",
        "from alice@globex.com (Globex) via email",
        "Arrival: AFTER HOURS, created Fri 20 Nov 22:40 Europe/London",
        "  1. p1-urgent: WON",
        "       yes: keyword 'down' in subject",
        "  2. p1-vip: not considered (p1-urgent won first; on its own it would match)",
        "  3. general-inquiry: WON",
        "  p1-first-reply: applies once the planned changes below are made",
        "       due Fri 20 Nov 23:40 Europe/London: due 30m ago: fires once the planned changes",
        "  - priority urgent  [SetPriority, priority:p1-urgent]",
        f"Ledger: no state file at {state_db}",
    ):
        assert expected in out, expected
    assert only_reads(zendesk)
    assert not state_db.exists()


def test_explain_shows_what_the_ledger_recorded(
    zendesk: ZendeskTwin, tickets: dict[str, int], state_db: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ticket = tickets["outage"]
    state = SqliteState(state_db)
    key = f"ticket:{ticket}/priority:p1-urgent/set_priority"
    state.record(at=FRIDAY_NIGHT + timedelta(minutes=5), ticket_id=ticket, key=key,
                 rule="priority:p1-urgent", action="SetPriority", outcome="done",
                 status="done", reason="keyword 'down' in subject")
    state.close()
    capsys.readouterr()  # the new state file's migration log line
    at = (FRIDAY_NIGHT + timedelta(minutes=10)).isoformat()
    assert main(["explain", str(ticket), "--at", at, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ledger"]["found"] is True
    assert data["ledger"]["settled"] == [key]
    assert [row["outcome"] for row in data["ledger"]["audit"]] == ["done"]
    assert key not in {a["key"] for a in data["plan"]["actions"]}
    assert data["priority_rules"][0]["status"] == "won"
    assert only_reads(zendesk)


def test_explain_of_a_missing_ticket_is_a_clear_error(
    zendesk: ZendeskTwin, tickets: dict[str, int], state_db: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["explain", "4711"]) == 2
    captured = capsys.readouterr()
    assert "Zendesk has no ticket 4711" in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert only_reads(zendesk)


def test_explain_without_zendesk_settings_names_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["explain", "1"]) == 2
    err = capsys.readouterr().err
    assert "AFTERHOURS_ZENDESK_URL" in err
    assert "JIRA" not in err  # explain reads Zendesk only


def test_replay_summarises_each_rule_over_the_period_and_acts_on_nothing(
    zendesk: ZendeskTwin, tickets: dict[str, int], state_db: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["replay", "--from", "2026-11-16", "--to", "2026-11-22"]) == 0
    out = capsys.readouterr().out
    outage, refund, question = tickets["outage"], tickets["refund"], tickets["question"]
    for expected in (
        "Replay of 3 tickets created from Mon 16 Nov 00:00 Europe/London until"
        " Mon 23 Nov 00:00 Europe/London",
        "Read 4 tickets from the Zendesk export: 3 replayed, 1 created outside the period",
        "Evaluated as of Mon 23 Nov 00:00 Europe/London.",
        f"  p1-urgent                       1 ticket   AddTags 1, SetPriority 1  e.g. #{outage}",
        f"  billing                         1 ticket   AddTags 1, AssignGroup 1, NotifyChannel 1"
        f"  e.g. #{refund}",
        f"matched all but the hours condition for 1 ticket, e.g. #{question}",
        f"No rule matched 1 ticket: e.g. #{question}",
    ):
        assert expected in out, expected
    assert only_reads(zendesk)
    assert not state_db.exists()


def test_replay_against_an_older_policy_shows_the_difference(
    zendesk: ZendeskTwin, tickets: dict[str, int], state_db: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(POLICY.read_text(encoding="utf-8").replace(
        "keywords: [outage, down, security,", "keywords: [security,"), encoding="utf-8")
    assert main(["replay", "--from", "2026-11-16", "--to", "2026-11-22", "--against", str(old),
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tickets"]["replayed"] == 3
    assert data["against"]["path"] == str(old)
    assert data["against"]["tickets_changed"] == 1
    shifts = {r["rule"]: r for r in data["against"]["rules"]}
    assert shifts["priority:p1-urgent"]["gained_sample"] == [tickets["outage"]]
    # Without "down", the outage falls through to the VIP rule (Alice is with Globex).
    assert shifts["priority:p1-vip"]["lost_sample"] == [tickets["outage"]]
    assert only_reads(zendesk)


def test_replay_since_reads_only_the_recent_tickets(
    zendesk: ZendeskTwin, tickets: dict[str, int], state_db: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bob = next(u["id"] for u in zendesk.state.users.values() if u["email"] == "bob@initech.com")
    recent = zendesk.create_ticket(subject="Invoice missing", description="please resend",
                                   requester_id=bob, created_at=utc_now() - timedelta(hours=1))
    assert main(["replay", "--since", "2h"]) == 0
    out = capsys.readouterr().out
    assert "Replay of 1 ticket created from" in out
    assert f"e.g. #{recent['id']}" in out
    assert only_reads(zendesk)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["replay", "--to", "2026-11-22"], "--to needs --from"),
        (["replay", "--from", "2026-11-22", "--to", "2026-11-16"], "ends before it starts"),
    ],
)
def test_replay_refuses_a_period_that_makes_no_sense(
    zendesk: ZendeskTwin, state_db: Path, capsys: pytest.CaptureFixture[str],
    argv: list[str], message: str,
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not any(zendesk.server.requests.values())


def test_replay_refuses_a_span_it_cannot_read(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["replay", "--since", "a week"])
    assert exit_info.value.code == 2
    assert "expected a duration such as 7d" in capsys.readouterr().err
