"""What the status page shows, read at one moment: who is on call now and next, the last pass
and the next, the escalations pending and when each falls due (the deadline index, then the
planner's own verdicts for those tickets), the latest actions with their reasons and the
policy in force. No secret and no ticket text: ids, priorities, rule names and reasons only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from afterhours.adapters.state import AuditRow, StateStore
from afterhours.adapters.state_report import next_wakeups
from afterhours.domain.oncall import OnCallShift, on_call_now
from afterhours.domain.planner import plan_with_verdicts
from afterhours.policy.model import Policy

PENDING_TICKETS = 50  # tickets of the deadline index looked at, soonest first
PENDING_ROWS = 25
LATEST_ACTIONS = 20
POLICY_OUTCOMES = ("policy_loaded", "policy_reloaded", "policy_reload_failed")


@dataclass(frozen=True)
class OnCall:
    """One on-call team: the shift now and the one after it."""

    team: str
    now: OnCallShift
    next: OnCallShift


@dataclass(frozen=True)
class Pending:
    """An escalation level not yet due for an open ticket, and when it falls due."""

    ticket_id: int
    priority: str
    ladder: str
    level: str
    due: datetime


@dataclass(frozen=True)
class PolicyInForce:
    """The policy the daemon acts on: its sha256, when it was loaded, and the latest reload
    refused since then (its time, reason and problems), if any."""

    sha256: str | None
    loaded_at: str | None = None
    refused_at: str | None = None
    refused: str | None = None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Status:
    """The whole page's facts."""

    now: datetime
    leader: bool
    last_pass_at: str | None
    next_pass_by: str | None
    oncall: tuple[OnCall, ...]
    pending: tuple[Pending, ...]
    actions: tuple[AuditRow, ...]
    policy: PolicyInForce
    reasons_not_ready: tuple[str, ...] = field(default_factory=tuple)


def on_call(policy: Policy, now: datetime) -> tuple[OnCall, ...]:
    """Every team's shift at `now` and the next one."""
    found = []
    for name, team in policy.oncall.items():
        shift = on_call_now(name, team, now)
        found.append(OnCall(name, shift, on_call_now(name, team, shift.ends)))
    return tuple(found)


def pending_escalations(store: StateStore, policy: Policy, now: datetime) -> tuple[Pending, ...]:
    """The levels pending on the tickets the deadline index wakes next, each with its due
    time as the planner works it out (plan_with_verdicts: the daemon's own decisions)."""
    found: list[Pending] = []
    for ticket_id, _ in next_wakeups(store.database, now, PENDING_TICKETS):
        ticket = store.ticket(ticket_id)
        if ticket is None or ticket.is_closed:
            continue
        _, verdicts = plan_with_verdicts(ticket, policy, now, store.history(ticket_id))
        for ladder in verdicts.escalations:
            for level in ladder.levels:
                if level.state in ("pending", "done", "acts") and level.next_due is not None \
                        and level.next_due > now:
                    found.append(Pending(ticket_id, ticket.priority or "none",
                                         ladder.ladder.name, level.level.id or str(level.number),
                                         level.next_due))
    return tuple(sorted(found, key=lambda p: (p.due, p.ticket_id))[:PENDING_ROWS])


def policy_in_force(rows: list[AuditRow], sha256: str | None) -> PolicyInForce:
    """The policy's sha256 (as readiness knows it), its load time and any refusal since,
    from the newest policy rows of the audit trail (newest first)."""
    loaded = next((r for r in rows if r.outcome != "policy_reload_failed"), None)
    refused = next((r for r in rows if r.outcome == "policy_reload_failed"), None)
    if refused is not None and loaded is not None and refused.id < loaded.id:
        refused = None
    problems: Any = refused.detail.get("problems", []) if refused is not None else []
    return PolicyInForce(
        sha256=sha256 or (loaded.detail.get("sha256") if loaded is not None else None),
        loaded_at=loaded.at if loaded is not None else None,
        refused_at=refused.at if refused is not None else None,
        refused=refused.reason if refused is not None else None,
        problems=tuple(str(p) for p in problems)[:10],
    )


def read_status(store: StateStore, policy: Policy, readiness: Mapping[str, Any],
                poll_interval: float, now: datetime) -> Status:
    """Everything the page shows at `now`; `readiness` is /readyz's detail."""
    last = readiness.get("last_pass_at")
    next_by = None if last is None else (
        datetime.fromisoformat(last) + timedelta(seconds=poll_interval)).isoformat()
    actions = [r for r in store.audit_rows(limit=LATEST_ACTIONS * 3) if r.key][:LATEST_ACTIONS]
    return Status(
        now=now,
        leader=bool(readiness.get("leader", True)),
        last_pass_at=last,
        next_pass_by=next_by,
        oncall=on_call(policy, now),
        pending=pending_escalations(store, policy, now),
        actions=tuple(actions),
        policy=policy_in_force(store.audit_rows(outcomes=POLICY_OUTCOMES, limit=20),
                               readiness.get("policy_sha256")),
    )
