"""`afterhours audit`: the audit trail, newest first, chosen by ticket, outcome and time, as
text or JSON lines; `--follow` prints the latest rows in time order, then each new one.

Reads the state only (AFTERHOURS_STATE_URL, or --state): no credentials, no network.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from functools import partial
from types import FrameType
from typing import TextIO

from afterhours.adapters.state import AuditRow
from afterhours.bootstrap import open_state
from afterhours.cli_grammar import add_db_alias, add_output
from afterhours.clock import Clock, utc_now
from afterhours.domain.render import one_line
from afterhours.inspect.commands import EXIT_OK, span_argument
from afterhours.settings import LocalSettings

FOLLOW_SECONDS = 1.0  # how often --follow looks for new rows
_REASON_WIDTH = 120


def add_audit(parser: argparse.ArgumentParser) -> None:
    """The arguments of `afterhours audit`."""
    parser.description = (
        "Print the audit trail: one row per outcome (done, skipped, failed, deferred,"
        " conflict, policy_loaded...), newest first. --follow prints the latest rows oldest"
        " first, then each new row as it is written, until SIGINT or SIGTERM.")
    parser.add_argument("--ticket", type=int, metavar="ID", help="only this ticket")
    parser.add_argument("--outcome", action="append", default=[], metavar="OUTCOME",
                        help="only this outcome (done, failed, deferred...); may be repeated")
    parser.add_argument("--since", type=span_argument, metavar="SPAN",
                        help="only rows of the last SPAN: 90m, 36h, 7d, 2w")
    parser.add_argument("--limit", type=int, default=1000, metavar="N",
                        help="at most N rows (default: 1000)")
    parser.add_argument("--follow", "-f", action="store_true",
                        help="keep printing new rows as they are written")
    add_output(parser, json_alias=False)
    add_db_alias(parser)
    parser.set_defaults(command=run_audit)


def run_audit(args: argparse.Namespace, *, clock: Clock = utc_now, out: TextIO | None = None,
              stop: threading.Event | None = None) -> int:
    """`afterhours audit`: print the chosen rows; with --follow, keep printing until stopped."""
    out = out or sys.stdout
    state = open_state(LocalSettings(), existing=True)
    since = None if args.since is None else clock() - args.since
    query = partial(state.audit_rows, ticket_id=args.ticket, outcomes=tuple(args.outcome),
                    since=since)
    write = _json_line if args.output == "json" else _text_line
    try:
        if not args.follow:
            for row in query(limit=args.limit):
                out.write(write(row))
            return EXIT_OK
        stop = stop or threading.Event()
        with _stopped_by_signals(stop):
            _follow(query, args.limit, lambda row: out.write(write(row)), stop, out)
    finally:
        state.close()
    return EXIT_OK


def _follow(query: Callable[..., list[AuditRow]], limit: int,
            write: Callable[[AuditRow], object], stop: threading.Event, out: TextIO) -> None:
    latest = query(limit=limit)
    last = latest[0].id if latest else 0
    for row in reversed(latest):
        write(row)
    out.flush()
    while not stop.wait(FOLLOW_SECONDS):
        for row in query(after_id=last, limit=limit, newest_first=False):
            write(row)
            last = row.id
        out.flush()


@contextlib.contextmanager
def _stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """Within, SIGINT and SIGTERM set `stop` (in the main thread only, where signals land)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(_: int, __: FrameType | None) -> None:
        stop.set()

    before = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _json_line(row: AuditRow) -> str:
    return json.dumps(row.__dict__, sort_keys=True) + "\n"


def _text_line(row: AuditRow) -> str:
    ticket = f"#{row.ticket_id}" if row.ticket_id is not None else "-"
    what = " ".join(part for part in (row.rule, row.action) if part)
    return (f"{row.at}  {ticket:<8} {row.outcome:<10} {what}{': ' if what else ''}"
            f"{one_line(row.reason, _REASON_WIDTH)}\n")
