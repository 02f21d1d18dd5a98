"""`GET /status` (HTML, refreshing itself) and `GET /status.json` on the daemon's HTTP server,
when AFTERHOURS_STATUS_PAGE=true: read-only, from a connection of their own to the state
(the loop's belongs to the loop), with no secret and no ticket text in either."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from afterhours.adapters.state import StateStore
from afterhours.clock import Clock
from afterhours.domain.oncall import OnCallShift
from afterhours.domain.render import one_line
from afterhours.ops.health import Health
from afterhours.ops.status import Status, read_status
from afterhours.policy.model import Policy

PATH = "/status"
REFRESH_SECONDS = 30
_REASON_WIDTH = 300
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 72rem; color: #222;
       padding: 0 1rem; }
h2 { border-bottom: 2px solid #ddd; margin-top: 2rem; } .muted { color: #555; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f5f8; } .refused { color: #b02a2a; }
"""


def status_data(status: Status) -> dict[str, Any]:
    """The status as plain data, field by field (an audit row's detail, which may hold a
    note's text, is left out)."""

    def shift(s: OnCallShift) -> dict[str, Any]:
        return {"primary": s.primary, "backup": s.backup, "from": s.starts.isoformat(),
                "until": s.ends.isoformat(), "reason": s.reason}

    policy = status.policy
    return {
        "now": status.now.isoformat(),
        "leader": status.leader,
        "last_pass_at": status.last_pass_at,
        "next_pass_by": status.next_pass_by,
        "oncall": [{"team": o.team, "now": shift(o.now), "next": shift(o.next)}
                   for o in status.oncall],
        "pending_escalations": [
            {"ticket_id": p.ticket_id, "priority": p.priority, "ladder": p.ladder,
             "level": p.level, "due": p.due.isoformat()} for p in status.pending],
        "latest_actions": [
            {"at": r.at, "ticket_id": r.ticket_id, "rule": r.rule, "action": r.action,
             "outcome": r.outcome, "reason": r.reason} for r in status.actions],
        "policy": {"sha256": policy.sha256, "loaded_at": policy.loaded_at,
                   "refused_at": policy.refused_at, "refused": policy.refused,
                   "problems": list(policy.problems)},
    }


def _e(value: object) -> str:
    return "" if value is None else html.escape(str(value))


def _rows(head: tuple[str, ...], rows: Sequence[tuple[object, ...]], name: str,
          empty: str) -> str:
    header = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    if not rows:
        body = f'<tr><td colspan="{len(head)}">{_e(empty)}</td></tr>'
    return f'<table id="{name}"><tr>{header}</tr>{body}</table>'


def _when(moment: datetime | str | None, *, seconds: bool = False) -> str:
    if moment is None:
        return ""
    if isinstance(moment, str):  # as the audit trail and readiness write it
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(UTC).strftime(f"%a %d %b %H:%M{':%S' if seconds else ''} UTC")


def render_status(status: Status) -> str:
    """The status page as HTML: tables only, no script, refreshing every 30 s."""
    oncall = [(o.team, o.now.primary, o.now.backup or "none", _when(o.now.ends),
               o.next.primary, o.next.backup or "none") for o in status.oncall]
    pending = [(f"#{p.ticket_id}", p.priority, p.ladder, p.level, _when(p.due))
               for p in status.pending]
    actions = [(_when(r.at, seconds=True), "-" if r.ticket_id is None else f"#{r.ticket_id}",
                r.rule, r.action, r.outcome, one_line(r.reason, _REASON_WIDTH))
               for r in status.actions]
    policy = status.policy
    refused = "" if policy.refused is None else (
        f'<p class="refused" id="refused">Refused at {_e(_when(policy.refused_at, seconds=True))}:'
        f" {_e(policy.refused)}</p><ul>"
        + "".join(f"<li>{_e(p)}</li>" for p in policy.problems) + "</ul>")
    role = "acting (holds the lease)" if status.leader else "standby (another replica acts)"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\">"
        # No icon to ask for: a browser's request for /favicon.ico would only be a 404.
        "<link rel=\"icon\" href=\"data:,\">"
        f"<title>afterhours status</title><style>{_STYLE}</style></head><body>"
        f"<h1>afterhours status</h1><p class=\"muted\">{_when(status.now, seconds=True)};"
        " this replica is"
        f" {role}. Refreshes every {REFRESH_SECONDS} s.</p>"
        "<h2>Passes</h2>"
        + _rows(("last pass finished", "next pass by"),
                [(_when(status.last_pass_at, seconds=True) or "none yet",
                  _when(status.next_pass_by, seconds=True) or "after the first")],
                "passes", "")
        + "<h2>On call</h2>"
        + _rows(("team", "now", "backup", "until", "next", "next backup"), oncall, "oncall",
                "the policy names no on-call team")
        + "<h2>Escalations pending</h2>"
        + _rows(("ticket", "priority", "ladder", "level", "falls due"), pending, "pending",
                "none pending")
        + "<h2>Latest actions</h2>"
        + _rows(("at", "ticket", "rule", "action", "outcome", "reason"), actions, "actions",
                "none yet")
        + "<h2>Policy in force</h2>"
        + _rows(("sha256", "loaded at"), [(policy.sha256, _when(policy.loaded_at, seconds=True)
                                           or "not recorded")], "policy", "")
        + refused + "</body></html>\n"
    )


def status_routes(open_store: Callable[[], StateStore], policy: Callable[[], Policy],
                  health: Health, clock: Clock, poll_interval: float) -> list[BaseRoute]:
    """The page's two routes, each request on a store connection of its own, closed after."""

    def read() -> Status:
        store = open_store()
        try:
            return read_status(store, policy(), health.check().detail, poll_interval, clock())
        finally:
            store.close()

    async def page(_: Request) -> Response:
        return HTMLResponse(render_status(await run_in_threadpool(read)),
                            headers={"Cache-Control": "no-store"})

    async def data(_: Request) -> Response:
        return JSONResponse(status_data(await run_in_threadpool(read)),
                            headers={"Cache-Control": "no-store"})

    return [Route(PATH, page, methods=["GET"]), Route(PATH + ".json", data, methods=["GET"])]
