"""`afterhours unlink TICKET ISSUE`: a lead undoes a wrong join of a known issue.

The ticket's label comes off the issue and its customers-<n> count is taken again (in Jira,
now: if Jira cannot be reached nothing changes and the command says so); then, in one
transaction of the state, the issue stops being the ticket's, the ticket never joins it
again and is due at once, so the daemon's next pass files the issue the ticket should have
had, once, through the ledger like any other.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TextIO
from urllib.parse import urlsplit

from afterhours.adapters.jira import JiraIssueTracker
from afterhours.bootstrap import open_state
from afterhours.cli_grammar import AddCommand
from afterhours.clock import Clock, utc_now
from afterhours.domain.actions import JoinJiraIssue
from afterhours.domain.jira_names import jira_label
from afterhours.errors import ServiceError
from afterhours.inspect.commands import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from afterhours.inspect.sources import PROMPT_RETRY
from afterhours.settings import Settings


def add_unlink(commands: argparse._SubParsersAction[argparse.ArgumentParser],
               add: AddCommand) -> None:
    """Register `unlink` on the cli's sub-commands (`add` makes it)."""
    unlink = add(commands, "unlink", "undo a wrong join of a known issue: the ticket leaves"
                 " the issue and the next pass files its own", run_unlink,
                 ("state", "log_format"))
    unlink.add_argument("ticket", type=int, metavar="TICKET", help="the Zendesk ticket's id")
    unlink.add_argument("issue", metavar="ISSUE", help="the Jira issue it joined, such as ENG-42")


def run_unlink(args: argparse.Namespace, *, clock: Clock = utc_now,
               out: TextIO | None = None) -> int:
    """`afterhours unlink`: take the ticket off the issue it joined; the next pass files."""
    out = out or sys.stdout
    settings = Settings()
    ticket, issue = int(args.ticket), str(args.issue).upper()
    state = open_state(settings, existing=True)
    try:
        rule = state.joined_by(ticket, issue)
        if rule is None:
            print(f"afterhours unlink: ticket {ticket} has not joined {issue} (or was unlinked"
                  f" from it already): nothing to undo; `afterhours explain {ticket}` shows"
                  " its Jira issue", file=sys.stderr)
            return EXIT_USAGE
        tracker = JiraIssueTracker(
            str(settings.jira_url), settings.jira_email, settings.jira_token.get_secret_value(),
            ticket_namespace=urlsplit(str(settings.zendesk_url)).netloc,
            timeout=settings.http_timeout, retry=PROMPT_RETRY)
        try:
            left = tracker.leave_issue(JoinJiraIssue(ticket, issue, jira_label(ticket)))
        except ServiceError as error:
            print(f"afterhours unlink: Jira could not take ticket {ticket} off {issue}"
                  f" ({error}); nothing was changed, try again", file=sys.stderr)
            return EXIT_FAILED
        finally:
            tracker.close()
        who = _who()
        state.unlink(ticket, issue, rule, at=clock(),
                     reason=f"unlinked from {issue} by {who} with afterhours unlink")
    finally:
        state.close()
    out.write(f"ticket {ticket} unlinked from {issue} (it has {left.customers} ticket(s) now);"
              " the next pass files the ticket's own issue\n")
    return EXIT_OK


def _who() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # a container user without a passwd entry
        return "unknown user"
