"""Filing the batch's Jira issues, and settling what interrupted attempts already did: the
part of acting that comes first, since a ticket that learns its issue is planned again with
it before anything else is done for it (afterhours.acting, afterhours.settling)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from afterhours.adapters.ports import IssueTracker, TicketDesk
from afterhours.adapters.state import Attempt, StateStore
from afterhours.clock import Clock
from afterhours.domain.actions import (
    CommentOnIssue,
    CreateJiraIssue,
    JoinJiraIssue,
    PlannedAction,
    SkippedAction,
)
from afterhours.domain.known_issues import COMMENT_STEP, JOIN_STEP, SHARED_STEPS
from afterhours.domain.known_updates import JOIN_NOT_DONE, UPDATE_RULE, WITHHELD_STEP
from afterhours.domain.model import JiraIssueRef, Ticket
from afterhours.errors import AccessError, PermanentError, ServiceError, TransientError
from afterhours.known_acting import KnownIssueActing
from afterhours.outcomes import PassReport, Recorder
from afterhours.reconcile import IssueFinder, reconcile

log = structlog.get_logger()

# What a join's plan says of it (the issue's link and comment, the ticket's tag and note):
# taken only once the join is done, so neither side claims a join Jira does not show.
_AFTER_JOIN = (*SHARED_STEPS, COMMENT_STEP)
JOIN_REFUSED = "join_refused"  # the audit outcome of a join refused for good


def refuses_join(error: ServiceError) -> bool:
    """Whether a join's failure is for good: the request itself is wrong or not allowed
    (400, 404, the issue Done or moved: PermanentError), or this issue is closed to us
    (403). A rotated token (401), 429, 5xx and timeouts are tried again."""
    return isinstance(error, PermanentError) or (isinstance(error, AccessError)
                                                 and error.status == 403)


@dataclass
class Turn:
    """One ticket's place in a batch: the ticket as last read, what it is to do this round,
    and what this pass has learned about it."""

    ticket: Ticket
    refreshed: bool = False  # read afresh this pass before paging anyone
    counted: bool = False  # counted in tickets_planned
    stamp_known: bool = True  # False after a write whose answer did not tell the new stamp
    conflicted: bool = False  # changed under us: re-read, then plan again
    learned: bool = False  # a Jira issue filed or found: plan again with it
    actions: list[PlannedAction] = field(default_factory=list)
    # Keys reconcile settled or holds back this pass: not taken again if planned again.
    held: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class FoundIssues:
    """The tracker, with what one search found for `asked` tickets: their answers come from
    `found`, any other ticket's from the tracker itself."""

    tracker: IssueFinder
    asked: set[int]
    found: Mapping[int, JiraIssueRef]

    def find_issue(self, ticket_id: int) -> JiraIssueRef | None:
        """The issue filed for the ticket, as the shared search found it."""
        if ticket_id in self.asked:
            return self.found.get(ticket_id)
        return self.tracker.find_issue(ticket_id)

    def has_issue_comment(self, issue_key: str, marker: str) -> bool:
        """Whether a comment on the issue contains `marker` (the tracker's own answer)."""
        return self.tracker.has_issue_comment(issue_key, marker)


class IssueFiling(KnownIssueActing):
    """What filing needs of the service, and how it files."""

    desk: TicketDesk
    tracker: IssueTracker
    state: StateStore
    clock: Clock
    recorder: Recorder
    search_lag: timedelta

    def _mark_intended(self, planned: PlannedAction) -> None:
        self.state.mark_intended(
            at=self.clock(), ticket_id=planned.action.ticket_id, key=planned.key,
            rule=planned.rule, action=planned.kind, reason=planned.reason)

    def _file_issues(self, turns: Sequence[Turn], report: PassReport) -> None:
        """File the batch's Jira issues: one search for those filed already (an earlier
        attempt search shows now), one bulk create for the rest. A ticket whose issue is
        filed or found has learned it (`Turn.learned`); its create is settled either way."""
        creating = [(turn, planned) for turn in turns for planned in turn.actions
                    if isinstance(planned.action, CreateJiraIssue)]
        if not creating:
            return
        for turn, planned in creating:
            turn.actions.remove(planned)
        # Alike tickets of the batch (similar_issues:) file one issue; the others join it.
        creating, held = self._one_per_problem(creating)
        try:
            self._file_each(creating, report)
        finally:
            self._plan_held_again(held)

    def _file_each(self, creating: list[tuple[Turn, PlannedAction]], report: PassReport
                   ) -> None:
        with self.state.batch():
            for _, planned in creating:
                self._mark_intended(planned)
        try:
            found = self.tracker.find_issues([turn.ticket.id for turn, _ in creating])
        except ServiceError as error:
            # Nothing was filed this pass (an earlier attempt was reconciled before it got
            # here): once Jira is back, file at once instead of waiting out the search lag.
            with self.state.batch():
                for _, planned in creating:
                    if isinstance(error, TransientError):
                        self.state.forget_attempt(planned.key)
                self.recorder.failure([planned for _, planned in creating], error, report)
            return
        to_file = []
        with self.state.batch():
            for turn, planned in creating:
                issue = self._filed_already(found, turn.ticket.id)
                if issue is not None:
                    self._filed(turn, planned, issue, report)
                    continue
                # Stamp the attempt right before the create request: if its answer is lost,
                # Jira's search lag is counted from here (see afterhours.reconcile).
                self._mark_intended(planned)
                to_file.append((turn, planned))
        if not to_file:
            return
        results = self.tracker.create_issues(
            [planned.action for _, planned in to_file if isinstance(planned.action,
                                                                    CreateJiraIssue)])
        with self.state.batch():  # each issue and its ledger entry land together
            for (turn, planned), result in zip(to_file, results, strict=True):
                if isinstance(result, JiraIssueRef):
                    log.info("jira.issue_created", ticket_id=turn.ticket.id,
                             issue_key=result.key)
                    self._filed(turn, planned, result, report)
                    continue
                if isinstance(result, TransientError):
                    # Refused before Jira acted on it (429, no connection): nothing to wait for.
                    self.state.forget_attempt(planned.key)
                self.recorder.failure([planned], result, report)

    def _filed(self, turn: Turn, planned: PlannedAction, issue: JiraIssueRef,
               report: PassReport) -> None:
        self._similar = None  # the open issues a bug may join: one more now
        self.state.record_jira_issue(turn.ticket.id, issue, self.clock())
        self.recorder.done(planned, report, {"issue_key": issue.key, "issue_url": issue.url})
        turn.learned = True

    def _join_first(self, turns: Sequence[Turn], report: PassReport) -> None:
        """Join the batch's known issues, each with its "another customer" comment right
        after it, before anything else is done for their tickets (a ticket solved meanwhile
        would leave a comment unsent); hold back what says a ticket joined (its tag and note,
        the issue's link and comment) while its join is not done: failed, or cut short."""
        for turn in turns:
            refused: set[str] = set()  # the rules whose join Jira refused for good just now
            for planned in [p for p in turn.actions
                            if isinstance(p.action, JoinJiraIssue | CommentOnIssue)]:
                turn.actions.remove(planned)
                action = planned.action
                assert isinstance(action, JoinJiraIssue | CommentOnIssue)  # noqa: S101
                if not self._joined_if_joining(planned, refused):
                    continue  # planned again once its join is done
                with self.state.batch():
                    self._mark_intended(planned)
                try:
                    detail = self._on_known_issue(action)
                except ServiceError as error:
                    if isinstance(action, JoinJiraIssue) and refuses_join(error):
                        self._join_refused(planned, action, error, report)
                        refused.add(planned.key.rpartition("/")[0])
                    else:
                        self.recorder.failure([planned], error, report)
                    continue
                self.recorder.done(planned, report, detail)
            if refused:
                # The plan was made for a join that will not be: its reply says the known
                # issue's status. Nothing of it is recorded yet; the ticket is due, and its
                # next plan files its own issue and replies without that status.
                turn.actions = []
            turn.actions = [p for p in turn.actions if self._joined_if_joining(p, refused)]
            self._update_waits_for_join(turn)

    def _update_waits_for_join(self, turn: Turn) -> None:
        """Send the known issue's follow-up reply (domain.known_updates) only when the
        ticket's join is done and the joined issue is still the ticket's: it tells that
        issue's status. Held while the join is still intended (failed, or its answer lost):
        planned again until it is done. Withheld for good when the join was settled without
        being done (the ticket closed meanwhile, or a later plan filed its own issue)."""
        if not any(p.rule == UPDATE_RULE for p in turn.actions):
            return
        ticket_id = turn.ticket.id
        issue = self.state.history(ticket_id).jira_issue
        if issue is not None and self.state.joined_by(ticket_id, issue.key) is not None:
            return
        turn.actions = [p for p in turn.actions if p.rule != UPDATE_RULE]
        if not any(key.endswith(f"/{JOIN_STEP}") for key in self.state.attempts(ticket_id)):
            self.recorder.record(ticket_id, "skipped", JOIN_NOT_DONE, entry=SkippedAction(
                f"ticket:{ticket_id}/{UPDATE_RULE}/{WITHHELD_STEP}", UPDATE_RULE,
                JOIN_NOT_DONE))

    def _joined_if_joining(self, planned: PlannedAction, refused: set[str]) -> bool:
        """False for a step that follows a join (`_AFTER_JOIN`) whose join is not done
        (failed, cut short) or was refused this pass: it says a join Jira does not show.
        Once a join is skipped (refused for good, or unlinked: the ticket files its own
        issue), the steps planned are the ones of the issue it files."""
        rule, _, step = planned.key.rpartition("/")
        if step not in _AFTER_JOIN:
            return True
        return (rule not in refused
                and self.state.ledger_status(f"{rule}/{JOIN_STEP}") in (None, "done", "skipped"))

    def _join_refused(self, planned: PlannedAction, action: JoinJiraIssue,
                      error: ServiceError, report: PassReport) -> None:
        """Settle a join refused for good (the issue deleted, Done, moved out of the
        policy's projects, the edit rejected), saying why: the ticket never joins that
        issue again and its next plan files its own, as for a bug about nothing known."""
        answer = str(error) if error.status is None else f"Jira answered {error.status}: {error}"
        reason = (f"could not join {action.issue_key} for good ({answer}); the ticket files"
                  " its own issue instead")
        with self.state.batch():
            self.recorder.record(action.ticket_id, JOIN_REFUSED, reason, entry=planned,
                                 status="skipped",
                                 detail={"issue_key": action.issue_key, "status": error.status})
            self.state.refuse_join(action.ticket_id, action.issue_key, planned.rule,
                                   at=self.clock(), reason=reason)
        report.skipped += 1

    def _issues_found(self, turns: Sequence[Turn],
                      attempts: Mapping[int, Mapping[str, Attempt]]) -> IssueFinder:
        """Jira, as reconcile asks it: the batch's interrupted creates looked up in one
        search (`labels in (...)`) rather than one each."""
        asked = [turn.ticket.id for turn in turns if any(
            isinstance(p.action, CreateJiraIssue) and p.key in attempts[turn.ticket.id]
            for p in turn.actions)]
        if len(asked) < 2:
            return self.tracker
        try:
            return FoundIssues(self.tracker, set(asked), self.tracker.find_issues(asked))
        except ServiceError as error:  # each is looked up alone, and waits if that fails too
            log.warning("jira.lookup_failed", tickets=len(asked), error=str(error))
            return self.tracker

    def _reconcile(
        self, ticket: Ticket, actions: Sequence[PlannedAction], report: PassReport,
        attempts: Mapping[str, Attempt], finder: IssueFinder,
    ) -> tuple[bool, set[str]]:
        """Settle what an earlier, interrupted attempt already did, and defer what must wait.
        Return whether a Jira issue was found (a fact to plan from) and the keys dealt with."""
        if not attempts:
            return False, set()
        found = reconcile(ticket, actions, attempts, desk=self.desk, tracker=finder,
                          now=self.clock(), search_lag=self.search_lag)
        with self.state.batch():
            if found.issue is not None:
                self.state.record_jira_issue(ticket.id, found.issue, self.clock())
            for planned, detail in found.landed:
                self.recorder.done(planned, report, detail)
            for planned, reason in found.waiting:
                self.recorder.record(ticket.id, "deferred", reason, entry=planned)
                report.deferred += 1
        dealt_with = {p.key for p, _ in found.landed} | {p.key for p, _ in found.waiting}
        return found.issue is not None, dealt_with
