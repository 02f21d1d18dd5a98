"""What acting does for known issues (afterhours.acting's part): joining one, commenting on
it, one filing per problem in a batch (similar_issues:), and the open issues a bug may join.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from afterhours.adapters.ports import IssueTracker, TicketDesk
from afterhours.adapters.state import StateStore
from afterhours.article_cache import ArticleCache
from afterhours.clock import Clock
from afterhours.domain.actions import (
    AddPublicReply,
    CommentOnIssue,
    CreateJiraIssue,
    JoinJiraIssue,
    Plan,
    PlannedAction,
)
from afterhours.domain.articles import search_words
from afterhours.domain.known_issues import unlink_key
from afterhours.domain.model import Article, History, JiraIssueRef, OpenIssues, Ticket
from afterhours.domain.planner import plan_actions
from afterhours.domain.similarity import Compared, compared, similarity
from afterhours.kept_meanings import KeptMeanings
from afterhours.meanings import adding_meanings, with_meanings
from afterhours.policy.model import Policy
from afterhours.policy.templates import placeholders

if TYPE_CHECKING:
    from afterhours.filing import Turn

log = structlog.get_logger()


class KnownIssueActing:
    """The known-issue part of TicketActing."""

    desk: TicketDesk
    tracker: IssueTracker
    state: StateStore
    clock: Clock
    policy: Policy
    similarity_model: Path | None  # the model's folder, for similar_issues: matcher: meaning
    # The open issues a bug may join by similarity, read once and again after a filing.
    _similar: OpenIssues | None = None
    _articles: ArticleCache | None = None

    def planned_with_facts(self, ticket: Ticket, plan: Plan, history: History,
                           now: datetime) -> Plan:
        """`plan`, or the plan again with what it may use from outside: the open issues a
        ticket that files may join (similar_issues:), the articles a reply may offer
        (articles:). Looked up only for the plans that need them."""
        facts: dict[str, Any] = {}
        if self.policy.similar_issues is not None and files(plan):
            facts["open_issues"] = adding_meanings(self.open_issues(), [ticket], self.policy,
                                                   self.similarity_model, self.kept_meanings())
        if self.policy.articles is not None and _offers_articles(plan, self.policy):
            facts["articles"] = self.articles_for(ticket)
        if not facts:
            return plan
        return plan_actions(ticket, self.policy, now, replace(history, **facts))

    def articles_for(self, ticket: Ticket) -> tuple[Article, ...] | None:
        """The help-center articles found for the ticket (kept a while); None: none looked
        up, as the search failed."""
        wanted = self.policy.articles
        if wanted is None:
            return None
        if self._articles is None:
            self._articles = ArticleCache(self.clock)
        return self._articles.articles(self.desk.search_articles, search_words(ticket),
                                       wanted.locale, wanted.cache_minutes)

    def _on_known_issue(self, action: JoinJiraIssue | CommentOnIssue) -> dict[str, Any]:
        """Join a known issue (it is then the ticket's issue: sync-back and later plans
        treat it as filed), or comment on it; return the audit detail."""
        if isinstance(action, CommentOnIssue):
            self.tracker.comment_on_issue(action)
            return {"issue_key": action.issue_key}
        joined = self.tracker.join_issue(action)  # the issue's key now, were it moved
        self._similar = None
        self.state.record_jira_issue(action.ticket_id, joined.issue, self.clock())
        log.info("jira.issue_joined", ticket_id=action.ticket_id, issue_key=joined.issue.key,
                 customers=joined.customers)
        return {"issue_key": joined.issue.key, "customers": joined.customers}

    def _filed_already(self, found: dict[int, JiraIssueRef],
                       ticket_id: int) -> JiraIssueRef | None:
        """The issue search shows for the ticket, unless a lead unlinked the ticket from it
        (`afterhours unlink`: search may lag the label it took off)."""
        issue = found.get(ticket_id)
        if issue is None or self.state.ledger_status(unlink_key(ticket_id, issue.key)) != "done":
            return issue
        return None

    def _one_per_problem(
        self, creating: list[tuple[Turn, PlannedAction]],
    ) -> tuple[list[tuple[Turn, PlannedAction]], list[tuple[Turn, Turn]]]:
        """With similar_issues: in the policy, the batch's creates less those much like an
        earlier one into the same project (an outage's tickets arriving together), each
        held with the turn that files: once its issue is filed, they are planned again
        and join it; if it is not, they are filed by a later pass."""
        similar = self.policy.similar_issues
        if similar is None or len(creating) < 2:
            return creating, []
        kept: list[tuple[Turn, PlannedAction, str, Compared]] = []
        held: list[tuple[Turn, Turn]] = []
        meanings = adding_meanings(OpenIssues(), [turn.ticket for turn, _ in creating],
                                   self.policy, self.similarity_model).meanings
        for turn, planned in creating:
            assert isinstance(planned.action, CreateJiraIssue)  # noqa: S101  (filtered above)
            text = compared(turn.ticket.subject, turn.ticket.description, meanings)
            first = next((t for t, _, project, other in kept
                          if project == planned.action.project
                          and similarity(text, other) >= similar.threshold), None)
            if first is None:
                kept.append((turn, planned, planned.action.project, text))
            else:
                held.append((turn, first))
        return [(turn, planned) for turn, planned, *_ in kept], held

    @staticmethod
    def _plan_held_again(held: list[tuple[Turn, Turn]]) -> None:
        for turn, first in held:
            turn.learned = first.learned

    def open_issues(self) -> OpenIssues:
        """The open issues a bug may join by similarity (policy similar_issues:), read from
        the state once and again after each filing or join."""
        similar = self.policy.similar_issues
        if self._similar is None:
            since = self.clock() - timedelta(days=similar.within_days if similar else 30)
            # Their meanings once here, not for each ticket compared with them.
            self._similar = with_meanings(self.state.open_issues(since), (), self.policy,
                                          self.similarity_model, self.kept_meanings())
        return self._similar

    def kept_meanings(self) -> KeptMeanings:
        """The meanings the state keeps (matcher: meaning), read back rather than run again
        by the model after a restart; for a dry run, its copy of the state."""
        similar = self.policy.similar_issues
        return KeptMeanings(self.state, self.clock(), similar.within_days if similar else 30)


def files(plan: Plan) -> bool:
    """Whether the plan files a Jira issue (which a similar open issue may replace)."""
    return any(isinstance(p.action, CreateJiraIssue) for p in plan.actions)


def _offers_articles(plan: Plan, policy: Policy) -> bool:
    """Whether the plan sends a reply while some template says {articles}."""
    return (any(isinstance(p.action, AddPublicReply) for p in plan.actions)
            and any("articles" in placeholders(text) for text in policy.templates.values()))
