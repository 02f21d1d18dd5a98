"""`afterhours failed` and `afterhours retry`: the parked actions, seen and released by a person.

Both read the state only (AFTERHOURS_STATE_URL, or the SQLite file --db): no Zendesk
credentials, no network. `retry` releases what it is given; the daemon's next pass plans it
again through the ledger, so nothing is done twice.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from typing import TextIO

from afterhours.adapters.state import ParkedAction, QuarantinedTicket, StateStore
from afterhours.bootstrap import open_state
from afterhours.cli_grammar import AddCommand, add_db_alias, add_output
from afterhours.clock import Clock, utc_now
from afterhours.domain.render import one_line
from afterhours.inspect.commands import EXIT_FAILED, EXIT_OK, EXIT_USAGE, span_argument
from afterhours.settings import LocalSettings

REQUESTED = "retry_requested"
_REASON_WIDTH = 160  # a line per action in the text listing; --json has the whole reason


def add_parked_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser],
                        add: AddCommand) -> None:
    """Register `failed` and `retry` on the cli's sub-commands (`add` makes each one)."""
    failed = add(commands, "failed", "list parked actions: those that failed for good, with"
                 " the reason", run_failed, ("state",))
    failed.description = (
        "List the actions that failed for good (an unknown Jira project, a "
        "mistyped webhook URL, a 4xx) and are parked: no pass redoes them until they are "
        "released by `afterhours retry` or by a policy or settings change. Reads the state "
        "only.")
    add_output(failed)
    add_db_alias(failed)

    retry = add(commands, "retry", "release parked actions; the next pass plans them again",
                run_retry, ("state",))
    retry.description = (
        "Release parked actions so that the daemon's next pass plans them again "
        "through the ledger (nothing is done twice). Each release is an audit row "
        f"{REQUESTED}. Exit 2 if a key is unknown, 1 if one is not parked.")
    retry.add_argument("keys", nargs="*", metavar="ACTION_KEY",
                       help="a key as `afterhours failed` lists it")
    retry.add_argument("--all", action="store_true", help="every parked action")
    retry.add_argument("--since", type=span_argument, metavar="SPAN",
                       help="only those that failed in the last SPAN: 90m, 36h, 7d, 2w")
    add_db_alias(retry)


def _open_state() -> StateStore:
    # --state (or the older --db) is a setting by now: see afterhours.cli_grammar.
    return open_state(LocalSettings(), existing=True)


def run_failed(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """`afterhours failed`: one line per parked action, then their count; then the tickets
    held in quarantine, if any."""
    out = out or sys.stdout
    state = _open_state()
    try:
        parked, held = state.parked(), state.quarantined()
    finally:
        state.close()
    if args.output == "json":
        for item in parked:
            out.write(json.dumps(_as_json(item), sort_keys=True) + "\n")
        for ticket in held:
            out.write(json.dumps(_held_json(ticket), sort_keys=True) + "\n")
        out.write(json.dumps({"parked": len(parked), "quarantined": len(held)}) + "\n")
        return EXIT_OK
    _write_parked(parked, out)
    _write_held(held, out)
    return EXIT_OK


def _write_parked(parked: list[ParkedAction], out: TextIO) -> None:
    rows = [("KEY", "TICKET", "RULE", "ACTION", "FAILED AT", "REASON")] + [
        (p.key, str(p.ticket_id), p.rule, p.action, p.failed_at.isoformat(timespec="seconds"),
         one_line(p.reason, _REASON_WIDTH)) for p in parked]
    if parked:
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            out.write("  ".join([*cells, row[5]]) + "\n")
    hint = "; `afterhours retry KEY` or `--all` releases them" if parked else ""
    out.write(f"{_count(len(parked), 'parked action')}{hint}\n")


def _write_held(held: list[QuarantinedTicket], out: TextIO) -> None:
    """Tickets Zendesk answered unreadably: no retry needed, every pass reads them again."""
    if not held:
        return
    out.write("\n")
    for ticket in held:
        since = ticket.first_seen.isoformat(timespec="seconds")
        reads = _count(ticket.attempts, "read")
        out.write(f"ticket {ticket.ticket_id} in quarantine since {since} ({reads}):"
                  f" {one_line(ticket.error, _REASON_WIDTH)}\n")
    out.write(f"{_count(len(held), 'ticket')} in quarantine; each pass reads them again and"
              " handles each as soon as Zendesk answers it readably\n")


def run_retry(args: argparse.Namespace, *, clock: Clock = utc_now,
              out: TextIO | None = None) -> int:
    """`afterhours retry`: release the chosen parked actions for the next pass."""
    out = out or sys.stdout
    if bool(args.keys) == bool(args.all or args.since):
        print("afterhours retry: name ACTION_KEYs, or choose --all or --since SPAN (not both)",
              file=sys.stderr)
        return EXIT_USAGE
    state = _open_state()
    try:
        now = clock()
        since = None if args.since is None else now - args.since
        chosen = args.keys or [p.key for p in state.parked(since=since)]
        who = _who()
        released = state.release_parked(
            chosen, at=now, outcome=REQUESTED, reason=f"released by {who} with afterhours retry",
            detail={"by": who})
        code = _report_missed(state.ledger_entry, set(args.keys) - {p.key for p in released})
        closed = {p.ticket_id for p in released if _closed(state, p.ticket_id)}
    finally:
        state.close()
    for item in released:
        out.write(f"released {item.key} ({item.action} on ticket {item.ticket_id}; failed"
                  f" {item.failed_at.isoformat(timespec='seconds')}: "
                  f"{one_line(item.reason, _REASON_WIDTH)})\n")
        if item.ticket_id in closed:
            out.write(f"  ticket {item.ticket_id} is solved or closed: no pass plans it again\n")
    if released:
        out.write(f"{_count(len(released), 'action')} released; the next pass re-plans them\n")
    elif not args.keys:
        out.write("nothing is parked" + (" from that period" if args.since else "") + "\n")
    return code


def _report_missed(entry: Callable[[str], tuple[str, str] | None], keys: set[str]) -> int:
    """Say why each key was not released; the exit code: 2 if one is unknown, 1 if one is
    known but not parked."""
    code = EXIT_OK
    for key in sorted(keys):
        found = entry(key)
        if found is None:
            print(f"afterhours retry: {key}: no such action in the ledger"
                  " (`afterhours failed` lists the parked ones)", file=sys.stderr)
            code = EXIT_USAGE
        else:
            print(f"afterhours retry: {key}: not parked (it is {found[0]})", file=sys.stderr)
            code = max(code, EXIT_FAILED)
    return code


def _closed(state: StateStore, ticket_id: int) -> bool:
    ticket = state.ticket(ticket_id)
    return ticket is not None and ticket.is_closed


def _who() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # a container user without a passwd entry
        return "unknown user"


def _as_json(item: ParkedAction) -> dict[str, object]:
    return {"key": item.key, "ticket_id": item.ticket_id, "rule": item.rule,
            "action": item.action, "reason": item.reason, "failed_at": item.failed_at.isoformat()}


def _held_json(ticket: QuarantinedTicket) -> dict[str, object]:
    return {"quarantined_ticket": ticket.ticket_id, "error": ticket.error,
            "attempts": ticket.attempts, "first_seen": ticket.first_seen.isoformat(),
            "last_tried": ticket.last_tried.isoformat()}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
