"""The chaos test's joins part: bug tickets about a known issue, or much like an issue filed
earlier in the night, join it instead of filing; read from Jira, Zendesk and the ledger."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from afterhours.adapters.state import StateStore
from afterhours.domain.comment_text import plain_marker
from afterhours.domain.jira_names import CUSTOMERS_PREFIX, is_ticket_label
from afterhours.domain.known_updates import UPDATE_RULE, WITHHELD_STEP
from afterhours.domain.ladders import REPLY_STEP
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from chaos.scenario import KNOWN_STATUS, SIMILAR_STATUS, Night

ACKNOWLEDGEMENT = "Thank you for contacting us"  # the shipped after-hours-ack template
JOIN_COMMENT = re.compile(r"\[afterhours ticket:(\d+)/[^/\]]+/join_comment\]")


@dataclass
class Joins:
    """The joins' figures, and the evidence behind the ones that failed."""

    tickets: int = 0  # bug tickets that joined an issue
    issues: int = 0  # issues joined
    known: int = 0  # of the tickets, those that joined the policy's known issue
    off_by_one: list[int] = field(default_factory=list)  # joined, yet not on exactly 1 issue
    joined_and_filed: list[int] = field(default_factory=list)
    unrecorded: list[int] = field(default_factory=list)  # Jira and the ledger disagree
    comments: int = 0
    comments_twice: int = 0
    comments_missing: list[str] = field(default_factory=list)  # "KEY<-#ticket"
    comments_stray: list[str] = field(default_factory=list)  # for a ticket that did not join
    counts_right: int = 0
    counts_wrong: list[str] = field(default_factory=list)  # "KEY: label(s) vs n tickets"
    replies: int = 0  # joined tickets' replies carrying the status
    replies_off: list[int] = field(default_factory=list)  # not exactly one such reply
    solved_unacknowledged: int = 0  # solved by an agent before any acknowledgement
    told_but_filed: list[int] = field(default_factory=list)  # status told, own issue filed
    # Acknowledged before it could join (its batch's filing waited on Jira), then told once
    # after the join by its follow-up reply (README); or that follow-up withheld for good:
    # a person had replied in public, or the ticket was solved, before it went out.
    acknowledged_before_join: int = 0
    update_withheld: int = 0
    # Told while the join waited on Jira (a pass before it was refused for good: the issue
    # Done meanwhile): true when said; the ticket then files its own issue.
    told_then_refused: int = 0

    @property
    def holds(self) -> bool:
        """Every joins invariant holds."""
        return not (self.off_by_one or self.joined_and_filed or self.unrecorded
                    or self.comments_twice or self.comments_missing or self.comments_stray
                    or self.counts_wrong or self.replies_off or self.told_but_filed)

    def rows(self) -> list[tuple[str, str]]:
        """The figures as rows of the chaos table."""
        def some(found: list[Any]) -> str:
            return f" e.g. {found[:5]}" if found else ""

        return [
            ("joins: tickets joined / issues joined",
             f"{self.tickets} tickets joined {self.issues} issues ({self.known} the known"
             f" issue's); on exactly 1 issue: off {len(self.off_by_one)}"
             f"{some(self.off_by_one)}"),
            ("joins: tickets both joined and filed (0)",
             f"{len(self.joined_and_filed)}{some(self.joined_and_filed)}; ledger disagreeing"
             f" with Jira: {len(self.unrecorded)}{some(self.unrecorded)}"),
            ("joins: 'another customer' comments twice (0)",
             f"{self.comments_twice} of {self.comments}; missing {len(self.comments_missing)}"
             f"{some(self.comments_missing)}; for tickets that did not join"
             f" {len(self.comments_stray)}{some(self.comments_stray)}"),
            ("joins: customer counts right",
             f"on {self.counts_right} of {self.issues}{some(self.counts_wrong)}"),
            ("joins: status replies not exactly once (0)",
             f"{len(self.replies_off)} of {self.tickets} ({self.replies} written;"
             f" solved before any acknowledgement {self.solved_unacknowledged};"
             f" acknowledged before the join {self.acknowledged_before_join}, of them"
             f" not followed up as a person replied or it was solved"
             f" {self.update_withheld})"
             f"{some(self.replies_off)}; told yet filed {len(self.told_but_filed)}"
             f"{some(self.told_but_filed)} (told before the join was refused:"
             f" {self.told_then_refused})"),
        ]


def check_joins(night: Night, jira: JiraTwin, zendesk: ZendeskTwin, known: str,
                state: StateStore) -> Joins:
    """Each joining ticket on exactly one issue, commented on once, counted, told once."""
    result = Joins()
    filed: dict[int, list[str]] = defaultdict(list)  # ticket -> issues created for it
    joined: dict[int, list[str]] = defaultdict(list)  # ticket -> issues it was added to
    issues = {str(issue["key"]): issue for issue in jira.issues()}
    for key, issue in issues.items():
        at_creation = _labels_at_creation(jira, key, issue)
        for label in issue["fields"]["labels"]:
            if is_ticket_label(label):
                ticket = int(label.removeprefix("zendesk-"))
                (filed if label in at_creation else joined)[ticket].append(key)
    result.tickets, result.known = len(joined), sum(1 for ks in joined.values() if known in ks)
    result.off_by_one = sorted(t for t in joined if len(filed[t]) + len(joined[t]) != 1)
    result.joined_and_filed = sorted(t for t in joined if filed[t])
    in_ledger = _joined_in_ledger(state)
    result.unrecorded = sorted(set(joined) ^ set(in_ledger))
    by_issue: dict[str, set[int]] = defaultdict(set)
    for ticket, keys in joined.items():
        for key in keys:
            by_issue[key].add(ticket)
    result.issues = len(by_issue)
    for key, issue in issues.items():
        _check_issue(result, key, issue, by_issue.get(key, set()))
    for ticket, keys in sorted(joined.items()):
        status = KNOWN_STATUS if known in keys else SIMILAR_STATUS
        told = _replies_with(zendesk, ticket, status)
        result.replies += told
        # An agent may solve a ticket before its acknowledgement went out (then none does);
        # sync back may have reopened it since, when its issue was fixed (on_resolution).
        now = zendesk.ticket(ticket)
        unacknowledged = not _replies_with(zendesk, ticket, ACKNOWLEDGEMENT) and (
            now["status"] in ("solved", "closed") or "jira_fixed" in now["tags"])
        if unacknowledged:
            result.solved_unacknowledged += 1
        else:
            _check_told(result, ticket, told, state)
    _check_told_but_filed(result, sorted(set(filed) - set(joined)), zendesk, state)
    return result


def _check_told(result: Joins, ticket: int, told: int, state: StateStore) -> None:
    """A joined ticket was told the status exactly once: by its acknowledgement, or, when
    that went out in a pass before any issue it could join existed (its batch's filing
    waited on Jira), by the follow-up after the join, unless that was withheld (README)."""
    if told <= 1 and _acknowledged_before(state, ticket, "done"):
        result.acknowledged_before_join += 1
        if told == 0 and _update_withheld(state, ticket):
            result.update_withheld += 1
            return
    if told != 1:
        result.replies_off.append(ticket)


def _check_told_but_filed(result: Joins, filers: list[int], zendesk: ZendeskTwin,
                          state: StateStore) -> None:
    """No ticket that filed its own issue was told a known issue's status, unless it was
    told while its join still waited and the join was refused afterwards."""
    for ticket in filers:
        if not (_replies_with(zendesk, ticket, KNOWN_STATUS)
                or _replies_with(zendesk, ticket, SIMILAR_STATUS)):
            continue
        if _acknowledged_before(state, ticket, "join_refused"):
            result.told_then_refused += 1
        else:
            result.told_but_filed.append(ticket)


def _check_issue(result: Joins, key: str, issue: dict[str, Any], joiners: set[int]) -> None:
    """One comment per joining ticket and none for another; the count is its tickets."""
    comments = Counter(int(ticket) for c in issue["fields"]["comment"]["comments"]
                       for ticket in JOIN_COMMENT.findall(plain_marker(c["body"])))
    result.comments += sum(comments.values())
    result.comments_twice += sum(n - 1 for n in comments.values() if n > 1)
    result.comments_missing += [f"{key}<-#{t}" for t in sorted(joiners) if not comments[t]]
    result.comments_stray += [f"{key}<-#{t}" for t in sorted(set(comments) - joiners)]
    if not joiners:
        return
    labels = issue["fields"]["labels"]
    counted = [label for label in labels if label.startswith(CUSTOMERS_PREFIX)]
    tickets = sum(1 for label in labels if is_ticket_label(label))
    if counted == [f"{CUSTOMERS_PREFIX}{tickets}"]:
        result.counts_right += 1
    else:
        result.counts_wrong.append(f"{key}: {counted} vs {tickets} tickets")


def joined_after_moved(jira: JiraTwin, key: str) -> set[int]:
    """The tickets that joined the issue after an engineer first moved it (In Progress):
    sync back keeps a joined ticket in step from its join on, so that move is not theirs."""
    moved, found = False, set()
    for history in jira.changelog(key):
        for item in history["items"]:
            if item["field"] == "status" and item["toString"] == "In Progress":
                moved = True
            elif item["field"] == "labels" and moved:
                added = set(str(item["toString"] or "").split()) - set(
                    str(item["fromString"] or "").split())
                found |= {int(label.removeprefix("zendesk-")) for label in added
                          if is_ticket_label(label)}
    return found


def _labels_at_creation(jira: JiraTwin, key: str, issue: dict[str, Any]) -> set[str]:
    """The labels the issue was created with: before its first label edit, if any."""
    for history in jira.changelog(key):
        for item in history["items"]:
            if item["field"] == "labels":
                return set(str(item["fromString"] or "").split())
    return set(issue["fields"]["labels"])


def _joined_in_ledger(state: StateStore) -> set[int]:
    """The tickets whose join the ledger records as done."""
    rows = state.audit(limit=10**7)
    return {r.ticket_id for r in rows
            if r.action == "JoinJiraIssue" and r.outcome == "done" and r.ticket_id is not None}


def _acknowledged_before(state: StateStore, ticket: int, outcome: str) -> bool:
    """Whether the ticket's acknowledgement was done in a pass before its join ended with
    `outcome` (done, or join_refused): the join goes first in a pass, so a reply planned
    with it never comes before it in the same one."""
    rows = state.audit(ticket_id=ticket)
    replied = [r.at for r in rows if r.action == "AddPublicReply" and r.outcome == "done"]
    joined = [r.at for r in rows if r.action == "JoinJiraIssue" and r.outcome == outcome]
    return bool(replied and joined and min(replied) < min(joined))


def _update_withheld(state: StateStore, ticket: int) -> bool:
    """Whether the ticket's follow-up after a late join was withheld for good (a person
    replied in public, or the ticket was solved, before it went out)."""
    ended = (f"/{UPDATE_RULE}/{WITHHELD_STEP}", f"/{UPDATE_RULE}/{REPLY_STEP}")
    return any(r.outcome == "skipped" and r.key is not None and r.key.endswith(ended)
               for r in state.audit(ticket_id=ticket))


def _replies_with(zendesk: ZendeskTwin, ticket: int, status: str) -> int:
    """How many public comments on the ticket carry `status`."""
    return sum(1 for c in zendesk.comments(ticket) if c.get("public") and status in c["body"])
