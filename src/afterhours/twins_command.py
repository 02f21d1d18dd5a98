"""`afterhours twins`: the Zendesk, Jira and chat twins on 127.0.0.1, with the PagerDuty,
SMTP and Slack Web API ones (demo.targets), to try every command offline.

It seeds the demo's sample account (groups, organizations, people, the ENG project) and its
night of tickets, placed on the latest Friday evening that is wholly past (or the tickets of
a file), prints the `export` lines that point every command at the twins, and serves until
SIGTERM or SIGINT. A lead can then try `check --live`, `explain`, `replay`, `run --once` and
`audit` without credentials; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from types import FrameType
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import shtab
import yaml

from afterhours.demo.night import END, START, TICKETS, seed_account
from afterhours.demo.targets import TargetTwins, write_demo_policy
from afterhours.errors import ConfigError
from afterhours.logs import configure_logging
from afterhours.policy import Policy, load_policy
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin

EXIT_OK = 0
TOKEN = "twin-token"  # noqa: S105  (the twins take any token)
EMAIL = "bot@example.com"
_LONDON = ZoneInfo("Europe/London")


def add_twins(parser: argparse.ArgumentParser) -> None:
    """The arguments of `afterhours twins`."""
    parser.description = (
        "Serve twins of Zendesk, Jira, a chat webhook, PagerDuty, SMTP and Slack's Web API on"
        " 127.0.0.1 with the demo's sample"
        " account and night of tickets (or the tickets of --tickets FILE), print the export"
        " lines that point every command at them, and serve until SIGTERM or SIGINT. The"
        " twins take any token; nothing leaves the machine.")
    action = parser.add_argument(
        "--tickets", type=Path, metavar="FILE",
        help="YAML or JSON list of tickets instead of the sample night: each has subject, and"
             " may have description, requester (an email), created_at (ISO time), priority"
             " and tags")
    action.complete = shtab.FILE  # type: ignore[attr-defined]
    parser.set_defaults(command=run_twins)


def run_twins(args: argparse.Namespace, *, out: TextIO | None = None,
              stop: threading.Event | None = None, now: datetime | None = None) -> int:
    """`afterhours twins`: seed, print the export lines, serve until stopped."""
    out = out or sys.stdout
    configure_logging(getattr(args, "log_format", None) or "auto", "warning")
    tickets = _read_tickets(args.tickets) if args.tickets is not None else None
    stop = stop or threading.Event()
    zendesk, jira, chat, targets = ZendeskTwin(), JiraTwin(), ChatTwin(), TargetTwins()
    with tempfile.TemporaryDirectory(prefix="afterhours-twins-") as scratch:
        policy_file = _policy_file(getattr(args, "policy", None), Path(scratch))
        policy = load_policy(policy_file).policy
        for twin in (zendesk, jira, chat):
            twin.start()
        targets.start(policy)
        try:
            now = now or datetime.now(UTC)
            filed = _seed(zendesk, jira, tickets, now)
            exports = _exports(zendesk, jira, chat, policy, scratch=Path(scratch), filed=filed,
                               now=now)
            exports |= targets.environment()
            exports["AFTERHOURS_POLICY_FILE"] = str(policy_file.resolve())
            _write_exports(out, exports, filed)
            _serve_until(stop)
        finally:
            for twin in (zendesk, jira, chat):
                twin.stop()
            targets.stop()
    return EXIT_OK


def _policy_file(given: str | None, scratch: Path) -> Path:
    """The policy given, else the shipped one with the demo's PagerDuty, e-mail and Slack
    targets (written to `scratch`)."""
    if given is not None:
        return Path(given)
    bundled = resources.files("afterhours") / "data" / "policy.yaml"
    return write_demo_policy(bundled.read_text(encoding="utf-8"), scratch)


def sample_night_start(now: datetime) -> datetime:
    """The demo night's start (Friday 16:00 in London) of the latest week whose night is
    over by `now`, so every sample ticket is in the past."""
    local = now.astimezone(_LONDON)
    friday = local.date() - timedelta(days=(local.weekday() - START.weekday()) % 7)
    while True:
        start = datetime.combine(friday, START.time(), tzinfo=_LONDON).astimezone(UTC)
        if start + (END - START) <= now:
            return start
        friday -= timedelta(days=7)


def _seed(zendesk: ZendeskTwin, jira: JiraTwin, tickets: list[dict[str, Any]] | None,
          now: datetime) -> list[tuple[int, str, datetime]]:
    account = seed_account(zendesk, jira)
    filed = []
    if tickets is None:
        start = sample_night_start(now)
        for new in TICKETS:
            created = start + new.at
            made = zendesk.create_ticket(subject=new.subject, description=new.description,
                                         requester_id=account.people[new.requester],
                                         created_at=created)
            filed.append((int(made["id"]), new.subject, created))
        return filed
    emails: dict[str, int] = {}  # requester ids, made as each is first met
    for ticket in tickets:
        email = str(ticket.get("requester") or "customer@example.com")
        if email not in emails:
            emails[email] = int(zendesk.add_user(email.split("@", maxsplit=1)[0], email)["id"])
        created = _moment(ticket.get("created_at"), now)
        made = zendesk.create_ticket(
            subject=str(ticket["subject"]), description=str(ticket.get("description") or ""),
            requester_id=emails[email], priority=ticket.get("priority"),
            tags=[str(t) for t in ticket.get("tags") or ()], created_at=created)
        filed.append((int(made["id"]), str(ticket["subject"]), created))
    return filed


def _moment(value: object, now: datetime) -> datetime:
    if value is None:
        return now
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _read_tickets(path: Path) -> list[dict[str, Any]]:
    try:
        found = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"--tickets {path}: cannot read it: {error}") from None
    if not isinstance(found, list) or not all(
            isinstance(t, dict) and t.get("subject") for t in found):
        raise ConfigError(f"--tickets {path}: expected a list of tickets, each with a subject"
                          " (and maybe description, requester, created_at, priority, tags)")
    try:
        for ticket in found:
            _moment(ticket.get("created_at"), datetime.now(UTC))
    except ValueError as error:
        raise ConfigError(f"--tickets {path}: created_at: {error}") from None
    return found


def _exports(zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, policy: Policy, *,
             scratch: Path, filed: Sequence[tuple[int, str, datetime]],
             now: datetime) -> dict[str, str]:
    """The settings that point every command at the twins (and a state file of their own)."""
    oldest = min((created for _, _, created in filed), default=now)
    # The daemon's first export starts this far back: far enough for every ticket.
    backfill = max(24, int((now - oldest).total_seconds() // 3600) + 2)
    hooks = {name: chat.webhook_url(name) for name, channel in policy.channels.items()
             if channel.type == "webhook"}
    return {
        "AFTERHOURS_ZENDESK_URL": zendesk.base_url, "AFTERHOURS_ZENDESK_EMAIL": EMAIL,
        "AFTERHOURS_ZENDESK_TOKEN": TOKEN, "AFTERHOURS_JIRA_URL": jira.base_url,
        "AFTERHOURS_JIRA_EMAIL": EMAIL, "AFTERHOURS_JIRA_TOKEN": TOKEN,
        "AFTERHOURS_WEBHOOKS": json.dumps(hooks),
        "AFTERHOURS_STATE_URL": f"sqlite:///{scratch / 'state.sqlite3'}",
        "AFTERHOURS_BACKFILL_HOURS": str(backfill),
    }


def _write_exports(out: TextIO, exports: dict[str, str],
                   filed: Sequence[tuple[int, str, datetime]]) -> None:
    lines = [
        "# afterhours twins: Zendesk, Jira, chat, PagerDuty, SMTP and Slack's Web API on"
        " 127.0.0.1; SIGINT or SIGTERM stops them.",
        "# Paste these lines into another shell (or source this output from a file):",
        *(f"export {name}={shlex.quote(value)}" for name, value in exports.items()),
        "# The tickets (`afterhours explain ID` explains one):",
        *(f"#   {ticket_id}: {subject} (created {created:%a %d %b %H:%M} UTC)"
          for ticket_id, subject, created in filed),
    ]
    out.write("\n".join(lines) + "\n")
    out.flush()


def _serve_until(stop: threading.Event) -> None:
    if threading.current_thread() is threading.main_thread():

        def request_stop(_: int, __: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
    while not stop.wait(0.5):
        pass
