"""Parked actions in the state (on SQLite and on PostgreSQL), and when a configuration change
releases them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from afterhours.adapters.state import StateStore
from afterhours.cli import main
from afterhours.clock import ManualClock
from afterhours.parking import change_reason, config_fingerprint, release_on_change
from afterhours.settings import Settings

KEY = "ticket:7/route:bugs/create_jira_issue"



def park(state: StateStore, clock: ManualClock, key: str = KEY, ticket_id: int = 7) -> None:
    state.mark_intended(at=clock(), ticket_id=ticket_id, key=key, rule="route:bugs",
                        action="CreateJiraIssue", reason="a bug")
    state.record(at=clock(), ticket_id=ticket_id, key=key, rule="route:bugs",
                 action="CreateJiraIssue", outcome="failed", status="failed",
                 reason="jira: Specify a valid project ID or key")


def settings(**changes: object) -> Settings:
    values: dict[str, object] = {
        "zendesk_url": "https://acme.zendesk.com", "zendesk_email": "bot@acme.com",
        "zendesk_token": SecretStr("zd"), "jira_url": "https://acme.atlassian.net",
        "jira_email": "bot@acme.com", "jira_token": SecretStr("jira"),
        "webhooks": {"finance": SecretStr("https://hooks.example/SECRET")},
    }
    return Settings(**{**values, **changes})  # type: ignore[arg-type]


def test_a_failed_action_is_parked_settled_and_counted(
    state: StateStore, clock: ManualClock
) -> None:
    park(state, clock)
    [parked] = state.parked()
    assert (parked.key, parked.ticket_id, parked.action, parked.failed_at) == (
        KEY, 7, "CreateJiraIssue", clock())
    assert parked.reason == "jira: Specify a valid project ID or key"
    assert state.parked_count() == 1
    assert KEY in state.history(7).settled


def test_parked_since_leaves_out_older_failures(state: StateStore, clock: ManualClock) -> None:
    park(state, clock, "ticket:1/a/b", 1)
    clock.advance(timedelta(days=8))
    park(state, clock, "ticket:2/a/b", 2)
    recent = state.parked(since=clock() - timedelta(days=7))
    assert [p.key for p in recent] == ["ticket:2/a/b"]


def test_a_released_action_is_no_longer_settled_and_its_past_stays_audited(
    state: StateStore, clock: ManualClock
) -> None:
    park(state, clock)
    clock.advance(timedelta(hours=1))
    released = state.release_parked([KEY, "ticket:7/unknown/step"], at=clock(),
                                    outcome="retry_requested", reason="by ops",
                                    detail={"by": "ops"})
    assert [p.key for p in released] == [KEY]
    assert KEY not in state.history(7).settled
    assert state.parked_count() == 0
    assert state.ledger_entry(KEY) is None
    outcomes = [(r.outcome, r.key) for r in state.audit(ticket_id=7)]
    assert outcomes == [("failed", KEY), ("retry_requested", KEY)]
    last = state.audit(ticket_id=7)[-1]
    assert last.detail["by"] == "ops"
    assert last.detail["failed_reason"] == "jira: Specify a valid project ID or key"


def test_release_leaves_what_is_not_parked_alone(state: StateStore, clock: ManualClock) -> None:
    state.record(at=clock(), ticket_id=7, key=KEY, rule="r", action="AddTags", outcome="done",
                 reason="tagged", status="done")
    assert state.release_parked([KEY], at=clock(), outcome="retry_requested", reason="x") == []
    assert state.ledger_entry(KEY) == ("done", "tagged")


def test_the_fingerprint_holds_no_secret_in_clear() -> None:
    fingerprint = config_fingerprint(settings(), "abc")
    assert set(fingerprint) == {"policy", "settings", "webhook:finance"}
    assert fingerprint["policy"] == "abc"
    assert not any("SECRET" in v or "hooks.example" in v for v in fingerprint.values())


@pytest.mark.parametrize(
    ("changed", "reason"),
    [
        ({}, None),
        ({"policy": "new"}, "policy changed"),
        ({"settings": settings(jira_url="https://other.atlassian.net")}, "settings changed"),
        ({"settings": settings(webhooks={"finance": SecretStr("https://hooks.example/B")})},
         "settings changed"),
        ({"settings": settings(jira_token=SecretStr("rotated"))}, None),  # tokens never park
        ({"settings": settings(poll_interval=5)}, None),
        ({"policy": "new", "settings": settings(zendesk_email="other@acme.com")},
         "policy and settings changed"),
    ],
    ids=["same", "policy", "jira-url", "webhook-url", "token", "poll-interval", "both"],
)
def test_what_counts_as_a_change(changed: dict[str, object], reason: str | None) -> None:
    before = config_fingerprint(settings(), "old")
    after = config_fingerprint(changed.get("settings", settings()),  # type: ignore[arg-type]
                               str(changed.get("policy", "old")))
    assert change_reason(before, after) == reason


def test_nothing_stored_yet_is_no_known_change() -> None:
    assert change_reason({}, config_fingerprint(settings(), "abc")) is None


def test_a_change_releases_every_parked_action_once(
    state: StateStore, clock: ManualClock
) -> None:
    first = config_fingerprint(settings(), "v1")
    park(state, clock)
    assert release_on_change(state, first, clock) == 0  # the first start records it
    assert state.parked_count() == 1

    second = config_fingerprint(settings(), "v2")
    assert release_on_change(state, second, clock) == 1
    assert state.config_fingerprint() == second
    [row] = [r for r in state.audit() if r.outcome == "retry_automatic"]
    assert (row.key, row.reason) == (KEY, "policy changed")

    park(state, clock)  # the fix did not fix it: parked again, and no loop
    assert release_on_change(state, second, clock) == 0
    assert state.parked_count() == 1


def test_retry_since_releases_only_recent_failures_and_needs_a_choice(
    state: StateStore, state_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = ManualClock(datetime.now(UTC))
    park(state, ManualClock(now() - timedelta(days=30)), "ticket:1/a/b", 1)
    park(state, now, "ticket:2/a/b", 2)
    monkeypatch.setenv("AFTERHOURS_STATE_URL", state_url)  # the daemon's setting, read alike

    assert main(["retry"]) == 2
    assert "name ACTION_KEYs, or choose --all or --since SPAN" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:  # argparse's own usage error
        main(["retry", "--since", "7x"])
    assert refused.value.code == 2
    assert "expected a duration such as 7d" in capsys.readouterr().err

    assert main(["retry", "--since", "7d"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("released ticket:2/a/b (CreateJiraIssue on ticket 2; failed ")
    assert [p.key for p in state.parked()] == ["ticket:1/a/b"]
    assert main(["retry", "--since", "7d"]) == 0
    assert capsys.readouterr().out == "nothing is parked from that period\n"


def test_failed_on_a_missing_state_file_says_so_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope" / "state.sqlite3"
    assert main(["failed", "--db", str(missing)]) == 2
    assert f"no state database at {missing}" in capsys.readouterr().err
    assert not missing.parent.exists()
