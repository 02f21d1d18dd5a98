"""The `explain` and `replay` commands: their arguments, and the shell that gathers inputs,
calls the pure reports and prints them. Each returns an exit code as the cli does."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from afterhours.cli_grammar import add_db_alias, add_output
from afterhours.clock import Clock, utc_now
from afterhours.errors import ServiceError
from afterhours.inspect.explain import explain_ticket, explanation_to_json
from afterhours.inspect.explain_text import render_explanation
from afterhours.inspect.replay import Period, parse_span, select_period
from afterhours.inspect.replay_report import METHOD, build_report, report_to_json
from afterhours.inspect.replay_text import render_report
from afterhours.inspect.sources import ZendeskReadSettings, open_desk, read_export, read_ledger
from afterhours.logs import configure_logging
from afterhours.meanings import MeaningsByModel, by_meaning, with_meanings
from afterhours.policy import LoadedPolicy, load_policy
from afterhours.policy.model import Schedule

# The cli's exit codes (cli.py imports this module, so they cannot be imported from there).
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_SPAN = "7d"


def add_explain_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `afterhours explain`."""
    parser.description = (
        "Fetch one ticket from Zendesk and show, without changing anything: whether it arrived"
        " after hours and why, each priority rule and route with its reasons (first match"
        " wins), each escalation ladder with its deadlines, the actions planned now, and what"
        " the ledger says was already done."
    )
    parser.add_argument("ticket_id", type=int, metavar="TICKET_ID")
    parser.add_argument("--at", type=parse_moment, metavar="ISO_TIME",
                        help="plan as of this moment (default: now; without an offset, in the"
                             " policy's time zone); the ticket's fields are as they are now")
    add_output(parser)
    add_db_alias(parser)


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `afterhours replay`."""
    parser.description = (
        "Read the tickets created in a period from the Zendesk export and show, per rule, how"
        " many it matched, the actions it would have taken and a few ticket ids; with"
        " --against, where two policies differ. Changes nothing. " + METHOD + " Deleted"
        " tickets are left out. Levels are evaluated at the end of the period (or now, if"
        " that is earlier)."
    )
    period = parser.add_mutually_exclusive_group()
    period.add_argument("--since", type=span_argument, metavar="SPAN",
                        help=f"tickets created in the last SPAN: 90m, 36h, 7d, 2w"
                             f" (default: {DEFAULT_SPAN})")
    period.add_argument("--from", dest="start", type=parse_moment, metavar="DATE",
                        help="tickets created from DATE (or ISO time), in the policy's zone")
    parser.add_argument("--to", dest="end", type=parse_moment, metavar="DATE",
                        help="...up to the end of DATE (or until an ISO time); default: now")
    parser.add_argument("--against", type=Path, metavar="OLD.yaml",
                        help="also replay this policy and show where the two differ")
    add_output(parser)


def parse_moment(text: str) -> datetime | date:
    """An ISO date or date-time from the command line (naive ones are placed later)."""
    try:
        return date.fromisoformat(text) if len(text.strip()) == 10 else datetime.fromisoformat(
            text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO date or time such as 2026-11-20 or 2026-11-20T18:30+00:00,"
            f" got {text!r}") from None


def span_argument(text: str) -> timedelta:
    """A span such as 90m, 36h, 7d or 2w from the command line (replay and retry --since)."""
    try:
        return parse_span(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def place(moment: datetime | date, schedule: Schedule, *, end_of_day: bool = False) -> datetime:
    """An aware UTC moment: dates and naive times are read in the schedule's zone; a date
    means its start, or with `end_of_day` the start of the next day."""
    zone = ZoneInfo(schedule.time_zone)
    if not isinstance(moment, datetime):
        day = moment + timedelta(days=1) if end_of_day else moment
        moment = datetime.combine(day, time(0, 0))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def run_explain(args: argparse.Namespace, *, clock: Clock = utc_now,
                out: TextIO | None = None) -> int:
    """`afterhours explain`: fetch one ticket and print everything the policy says about it."""
    out = out or sys.stdout
    settings = ZendeskReadSettings()
    _quiet_logs(settings)
    loaded = load_policy(settings.policy_file)
    now = clock() if args.at is None else place(args.at, loaded.policy.schedule)
    desk = open_desk(settings)
    try:
        ticket = desk.fetch_ticket(args.ticket_id)
    except ServiceError as error:
        return _failed(f"cannot read ticket {args.ticket_id} from Zendesk: {error}")
    finally:
        desk.close()
    if ticket is None:
        print(f"afterhours: Zendesk has no ticket {args.ticket_id} (never created, or deleted)",
              file=sys.stderr)
        return EXIT_USAGE
    similar = loaded.policy.similar_issues
    ledger = read_ledger(settings, None, ticket.id, None if similar is None
                         else now - timedelta(days=similar.within_days),
                         kept_meanings=by_meaning(loaded.policy))
    if ledger.history.open_issues is not None:
        issues = with_meanings(ledger.history.open_issues, [ticket], loaded.policy,
                               settings.similarity_model)
        ledger = replace(ledger, history=replace(ledger.history, open_issues=issues))
    explained = explain_ticket(ticket, loaded.policy, now, ledger)
    json_out = args.output == "json"
    _print(out, explanation_to_json(explained) if json_out else render_explanation(explained))
    return EXIT_OK


def run_replay(args: argparse.Namespace, *, clock: Clock = utc_now,
               out: TextIO | None = None) -> int:
    """`afterhours replay`: run the policy over a period's tickets and print what it would do."""
    out = out or sys.stdout
    if args.end is not None and args.start is None:
        print("afterhours: --to needs --from", file=sys.stderr)
        return EXIT_USAGE
    settings = ZendeskReadSettings()
    _quiet_logs(settings)
    loaded = load_policy(settings.policy_file)
    against: LoadedPolicy | None = None if args.against is None else load_policy(args.against)
    period = _period(args, loaded, clock())
    if period.end <= period.start:
        print("afterhours: the period ends before it starts", file=sys.stderr)
        return EXIT_USAGE
    desk = open_desk(settings)
    try:
        exported = read_export(desk, period.start)
    except ServiceError as error:
        return _failed(f"cannot read the ticket export from Zendesk: {error}")
    finally:
        desk.close()
    # Escalations are judged at the end of the period, or now if that end is still to come.
    now = min(period.end, clock())
    selection = select_period(exported, period)
    meanings = None
    if by_meaning(loaded.policy) or (against is not None and by_meaning(against.policy)):
        meanings = MeaningsByModel(settings.similarity_model)
    report = build_report(selection, period, now, loaded, against, meanings=meanings)
    _print(out, report_to_json(report) if args.output == "json" else render_report(report))
    return EXIT_OK


def _period(args: argparse.Namespace, loaded: LoadedPolicy, now: datetime) -> Period:
    schedule = loaded.policy.schedule
    if args.start is None:
        return Period(now - (args.since or parse_span(DEFAULT_SPAN)), now)
    end = now if args.end is None else place(args.end, schedule, end_of_day=True)
    return Period(place(args.start, schedule), end)


def _quiet_logs(settings: ZendeskReadSettings) -> None:
    # The report is the output; the client's logs only matter when something goes wrong.
    configure_logging(settings.log_format,
                      "debug" if settings.log_level == "debug" else "warning",
                      settings.library_log_level)


def _failed(message: str) -> int:
    print(f"afterhours: {message}", file=sys.stderr)
    return EXIT_FAILED


def _print(out: TextIO, report: str | dict[str, Any]) -> None:
    if isinstance(report, str):
        out.write(report)
    else:
        out.write(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
