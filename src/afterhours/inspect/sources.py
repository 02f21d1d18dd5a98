"""Where explain and replay read from: Zendesk (GET only) and the state (if it exists).

Nothing here writes: the export cursor is followed in memory and never saved, and a state
file that is not there is reported, never created.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pydantic import AnyHttpUrl, Field, SecretStr

from afterhours.adapters.ports import ExportPage
from afterhours.adapters.state import StateStore
from afterhours.adapters.zendesk import ZenpyTicketDesk
from afterhours.bootstrap import open_state, state_file
from afterhours.domain.model import OpenIssues, Ticket
from afterhours.domain.similarity import meaning_text
from afterhours.inspect.explain import Ledger
from afterhours.kept_meanings import read_kept
from afterhours.retrying import RetryPolicy
from afterhours.settings import LocalSettings, Settings

# A person is waiting at the terminal: give up sooner than the daemon would.
PROMPT_RETRY = RetryPolicy(attempts=3, total_seconds=30.0)


class ZendeskReadSettings(LocalSettings):
    """What explain and replay need: read access to Zendesk and the local files; no Jira, no chat.

    The fields mirror `Settings`, so the same AFTERHOURS_* variables serve both.
    """

    zendesk_url: AnyHttpUrl = Field(description="Zendesk base URL, e.g. https://acme.zendesk.com")
    zendesk_email: str = Field(description="the agent the daemon acts as")
    zendesk_token: SecretStr = Field(description="that agent's API token")
    http_timeout: float = Field(30.0, gt=0, description="seconds for any one HTTP request")


def open_desk(settings: ZendeskReadSettings | Settings) -> ZenpyTicketDesk:
    """A Zendesk client for a command a person waits on; they only ever call its GET methods."""
    return ZenpyTicketDesk(
        str(settings.zendesk_url),
        settings.zendesk_email,
        settings.zendesk_token.get_secret_value(),
        timeout=settings.http_timeout,
        retry=PROMPT_RETRY,
    )


class ExportReader(Protocol):
    """The one desk method replay uses."""

    def export_page(self, cursor: str | None, start_time: datetime) -> ExportPage:
        """The next page of the incremental export."""
        ...


def read_export(desk: ExportReader, start: datetime) -> list[Ticket]:
    """Every ticket the export lists from `start` to its end, following the cursor in memory."""
    tickets: list[Ticket] = []
    cursor: str | None = None
    while True:
        page = desk.export_page(cursor, start)
        tickets += page.tickets
        # A cursor that does not move would page forever; the export has nothing more then.
        if page.end_of_stream or not page.cursor or page.cursor == cursor:
            return tickets
        cursor = page.cursor


def read_ledger(settings: LocalSettings, db: Path | None, ticket_id: int,
                open_issues_since: datetime | None = None, *,
                kept_meanings: bool = False) -> Ledger:
    """The ledger's history and audit rows for one ticket, from the state the settings name
    (or the SQLite file `db`); an empty, not-found ledger if that is a SQLite file that does
    not exist (it is never created here). With `open_issues_since`, the history carries the
    open issues filed since then that the ticket may join (policy similar_issues:), and with
    `kept_meanings` (matcher: meaning) the meanings the daemon kept of their tickets' texts,
    read only, so explain runs the model on the rest alone."""
    file = state_file(settings, db)
    if file is not None and not file.is_file():
        return Ledger(str(file), found=False)
    # A file that is no state file raises StateError, saying so and what to do.
    state = open_state(settings, db=db)
    try:
        history = state.history(ticket_id)
        if open_issues_since is not None:
            issues = state.open_issues(open_issues_since)
            if kept_meanings:
                issues = replace(issues, meanings=_kept(state, issues))
            history = replace(history, open_issues=issues)
        return Ledger(str(file) if file is not None else state.where, True,
                      history, tuple(state.audit(ticket_id=ticket_id)),
                      tuple(state.linked_issues(ticket_id)))
    finally:
        state.close()


def _kept(state: StateStore, issues: OpenIssues) -> dict[str, bytes]:
    """The meanings the daemon kept of the open issues' tickets' texts, read only."""
    texts = {meaning_text(s, d) for issue in issues.issues for s, d in issue.texts}
    return {text: found.meaning for text, found in read_kept(state, texts).items()}
