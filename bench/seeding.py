"""Large accounts in seconds: copies of tickets the daemon really handled, in both places.

Filing 100,000 tickets through the API and letting today's daemon triage them would take
hours. Instead the tickets of the first pass (handled by the real daemon) are the templates:
each copy gets a new id in the Zendesk twin (at its template's place in the export) and, in
the daemon's state file, its template's snapshot, ledger entries and Jira issue under that id.
The state is then exactly what the daemon would hold had it handled the copies itself: a pass
finds nothing changed and nothing due (each copy wakes when its template does), and would
plan each copy as it plans its template.
The audit trail is not copied: no pass reads it.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

from afterhours.adapters.state import ticket_from_json, ticket_to_json
from bench.world import World


def _rekey(key: str, source: int, copy: int) -> str:
    # Ledger keys start `ticket:<id>/` (afterhours.domain.effects).
    prefix = f"ticket:{source}/"
    if not key.startswith(prefix):
        raise ValueError(f"ledger key {key!r} does not start with {prefix!r}")
    return f"ticket:{copy}/" + key.removeprefix(prefix)


def copy_state(state_db: Path, pairs: list[tuple[int, int]]) -> None:
    """Give each (template, copy) pair's copy its template's rows in the state file."""
    templates = sorted({source for source, _ in pairs})
    among = f"IN ({', '.join('?' * len(templates))})"
    with closing(sqlite3.connect(state_db)) as db, db:
        # `among` holds placeholders only: the ids go in as parameters.
        # With its wake-up: a copy falls due when its template would (the deadline index).
        rows = db.execute(f"SELECT id, body, wake_at FROM tickets WHERE id {among}",  # noqa: S608
                          templates)
        bodies = {int(i): (body, wake_at) for i, body, wake_at in rows}
        columns = ("key, ticket_id, rule, action, status, reason, detail, updated_at, attempts,"
                   " attempted_at")
        ledger: dict[int, list[tuple[object, ...]]] = {}
        query = f"SELECT {columns} FROM ledger WHERE ticket_id {among}"  # noqa: S608
        for row in db.execute(query, templates):
            ledger.setdefault(int(row[1]), []).append(row)
        filing = "ticket_id, issue_key, url, created_at"
        query = f"SELECT {filing} FROM jira_issues WHERE ticket_id {among}"  # noqa: S608
        issues = {int(row[0]): row[1:] for row in db.execute(query, templates)}
        tickets, entries, filed = [], [], []
        for source, copy in pairs:
            body, wake_at = bodies[source]
            template = ticket_from_json(body)
            web_url = template.web_url.removesuffix(str(source)) + str(copy)
            ticket = replace(template, id=copy, web_url=web_url)
            tickets.append((copy, int(not ticket.is_closed), ticket.updated_at.isoformat(),
                            ticket_to_json(ticket), wake_at))
            entries += [(_rekey(str(row[0]), source, copy), copy, *row[2:])
                        for row in ledger.get(source, [])]
            if source in issues:
                filed.append((copy, *issues[source]))
        db.executemany("INSERT INTO tickets (id, open, updated_at, body, wake_at)"
                       " VALUES (?, ?, ?, ?, ?)", tickets)
        db.executemany(f"INSERT INTO ledger ({columns})"  # noqa: S608
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", entries)
        db.executemany(f"INSERT INTO jira_issues ({filing}) VALUES (?, ?, ?, ?)",  # noqa: S608
                       filed)


def grow(world: World, state_db: Path, templates: list[int], open_tickets: int) -> None:
    """Copy `templates` in turn until the account holds `open_tickets` open tickets (the
    daemon must not be running: its state file is written directly)."""
    have = sum(1 for t in world.zendesk.state.tickets.values()
               if t["status"] not in ("solved", "closed"))
    wanted = [templates[n % len(templates)] for n in range(max(0, open_tickets - have))]
    copies = world.zendesk.clone_tickets(wanted)
    copy_state(state_db, list(zip(wanted, copies, strict=True)))
