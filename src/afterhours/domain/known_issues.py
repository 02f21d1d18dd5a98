"""Join, don't duplicate: a ticket a route would file in Jira that is about a known issue
(the policy's `known_issues:`) is joined to that issue instead.

The join is planned like any other step, each with its ledger key under the route that
would have filed (so each is done once): the issue is labelled zendesk-<id> and counts its
customers (JoinJiraIssue), linked back to the ticket, and commented on ("another customer
affected"); the ticket is tagged with the key and gets a note saying why it matched. The
tag, the link and the note use the steps a filed issue uses, so once the join is recorded as
the ticket's issue, the plans after it find them settled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from afterhours.domain import render
from afterhours.domain.actions import AddTags, CommentOnIssue, JoinJiraIssue, LinkJiraIssue
from afterhours.domain.comment_text import jira_comment
from afterhours.domain.jira_names import jira_label, jira_tag
from afterhours.domain.join_refusals import REFUSED, refused_issues
from afterhours.domain.matching import Verdict, prepare
from afterhours.domain.model import History, Ticket
from afterhours.domain.schedule import describe_moment, is_business_time
from afterhours.domain.similarity import compared, most_similar
from afterhours.policy.conditions import Condition
from afterhours.policy.known_issues import KnownIssue
from afterhours.policy.model import Policy
from afterhours.policy.rules import PriorityRule, Route

if TYPE_CHECKING:
    from afterhours.domain.effects import PlanBuilder

COMMENT_STEP = "join_comment"
JOIN_STEP = "join_jira_issue"
# The steps a join shares with a filed issue (domain.planner): forgotten by an unlink, so
# the issue filed instead gets its own link, tag and note.
SHARED_STEPS = ("link_jira_issue", "jira_tag", "jira_note")
# The step that files the ticket's own issue: one intended before a join replaced it was
# settled as skipped, and must be forgotten when the join is undone or refused.
CREATE_STEP = "create_jira_issue"


@dataclass(frozen=True)
class KnownMatch:
    """A known issue a ticket is about, and the conditions that held (the why, in words)."""

    issue: KnownIssue
    verdict: Verdict

    @property
    def because(self) -> str:
        """What held, in words."""
        return "; ".join(self.verdict.held)


@dataclass(frozen=True)
class KnownIssueVerdict:
    """One known issue judged for `explain`: every condition, held or failed, and whether it
    is the one the ticket joins (the first that matches); `left` says why a ticket does not
    join one it matches (unlinked, or refused for good)."""

    issue: KnownIssue
    verdict: Verdict
    chosen: bool
    left: str | None = None


def unlink_key(ticket_id: int, issue_key: str) -> str:
    """The ledger key `afterhours unlink` settles: the ticket never joins that issue again."""
    return f"ticket:{ticket_id}/unlink:{issue_key}"


def known_issue_for(ticket: Ticket, policy: Policy,
                    history: History | None = None) -> KnownMatch | None:
    """The first known issue whose conditions `ticket` meets, if any (and, given `history`,
    that a lead has not unlinked the ticket from, nor Jira refused its join of)."""
    if not policy.known_issues:
        return None
    after_hours, when = _arrival(ticket, policy)
    left = frozenset() if history is None else _left(history.settled)
    for issue in policy.known_issues:
        if issue.jira in left:
            continue
        verdict = prepare(issue.when).verdict(ticket, after_hours, when, every=False)
        if verdict is not None and verdict.matched:
            return KnownMatch(issue, verdict)
    return None


def judge_known_issues(ticket: Ticket, policy: Policy,
                       history: History | None = None) -> tuple[KnownIssueVerdict, ...]:
    """Every known issue's full verdict on `ticket` (explain, replay); given `history`,
    none is chosen once the ticket's join was undone (it files its own issue then)."""
    if not policy.known_issues:
        return ()
    after_hours, when = _arrival(ticket, policy)
    settled = frozenset() if history is None else history.settled
    undone = join_undone(settled)
    refused = refused_issues(settled)
    judged: list[KnownIssueVerdict] = []
    chosen = False
    for issue in policy.known_issues:
        verdict = prepare(issue.when).verdict(ticket, after_hours, when, every=True)
        assert verdict is not None  # noqa: S101  (every=True)
        left = None
        if verdict.matched and unlink_key(ticket.id, issue.jira) in settled:
            left = "a lead unlinked the ticket from it (afterhours unlink)"
        elif verdict.matched and issue.jira in refused:
            left = "joining it failed for good"
        elif verdict.matched and undone:
            left = "the ticket's join was undone, so it files its own issue"
        judged.append(KnownIssueVerdict(issue, verdict, verdict.matched and not chosen
                                        and left is None, left))
        chosen = chosen or (verdict.matched and left is None)
    return tuple(judged)


def similar_issue_for(ticket: Ticket, policy: Policy, history: History) -> KnownMatch | None:
    """The open issue (policy similar_issues:) the ticket is most like, at or above the
    threshold, as a known issue with the score and shared words as its why."""
    similar = policy.similar_issues
    if similar is None or history.open_issues is None:
        return None
    projects = frozenset(similar.projects or filed_projects(policy))
    unlinked = frozenset(key.rpartition("/unlink:")[2] for key in history.settled
                         if "/unlink:" in key)
    found = most_similar(compared(ticket.subject, ticket.description,
                                  history.open_issues.meanings), history.open_issues,
                         projects, similar.threshold, leaving_out=unlinked)
    if found is None:
        return None
    words = ", ".join(found.words) or "none in the subjects"
    alike = "alike in meaning" if similar.matcher == "meaning" else "alike"
    held = (f"{found.score:.0f}% {alike} to a ticket of {found.issue.key} (threshold "
            f"{similar.threshold}; shared words: {words})")
    # Not a lead's entry, so not validated as one (its status may be empty).
    issue = KnownIssue.model_construct(
        id=None, name=f"similar-{found.issue.key.lower()}", when=Condition(),
        jira=found.issue.key, status=similar.status)
    return KnownMatch(issue, Verdict(held=(held,), failed=()))


def known_match(builder: PlanBuilder, rule: str) -> KnownMatch | None:
    """The known issue the ticket joins instead of filing under `rule`, if any. None, so the
    ticket files, once its join was settled without the issue staying its own: a lead
    unlinked it, or Jira refused it for good (the issue deleted, Done, moved, the edit
    rejected); a join is never tried twice under one ledger key."""
    history, view = builder.history, builder.view
    if builder.key(rule, JOIN_STEP) in history.settled and join_undone(history.settled):
        return None
    return (known_issue_for(view, builder.policy, history)
            or similar_issue_for(view, builder.policy, history))


def join_projects(policy: Policy, issue_key: str) -> tuple[str, ...]:
    """The projects a join of `issue_key` may find it in: its own (as the policy or the
    similar issue named it) and those the policy files into or joins similar issues in."""
    similar = policy.similar_issues
    joined = similar.projects if similar is not None and similar.projects else ()
    own = issue_key.rpartition("-")[0]
    return tuple(sorted({own, *joined, *filed_projects(policy)}))


def filed_projects(policy: Policy) -> tuple[str, ...]:
    """The Jira projects the policy's rules file into."""
    rules: list[PriorityRule | Route] = [*policy.priority_rules.rules, *policy.routes.rules]
    return tuple(sorted({rule.jira.project for rule in rules if rule.jira is not None}))


def known_status(ticket: Ticket, policy: Policy, history: History | None = None) -> str:
    """The `{known_issue}` placeholder: the status of the known issue the ticket is about
    (or of the similar issue it joins, given the history the planner has); none once its
    join was undone (unlinked, refused): it files its own issue then."""
    if history is not None and join_undone(history.settled):
        return ""
    found = known_issue_for(ticket, policy, history)
    if found is None and history is not None:
        found = similar_issue_for(ticket, policy, history)
    if found is None and history is not None and _joined_by_similarity(ticket, policy, history):
        # Its join is recorded, so the plan files nothing and has no open issues to compare:
        # the issue it joined is the similar one all the same.
        return policy.similar_issues.status if policy.similar_issues else ""
    return "" if found is None else found.issue.status


def _joined_by_similarity(ticket: Ticket, policy: Policy, history: History) -> bool:
    """Whether the ticket's issue is one it joined (not filed, not unlinked from) that is no
    known_issues: entry of the policy."""
    issue = history.jira_issue
    if issue is None or any(entry.jira == issue.key for entry in policy.known_issues):
        return False
    prefix = f"ticket:{ticket.id}/"
    joined = any(key.startswith(prefix) and key.endswith(f"/{JOIN_STEP}")
                 for key in history.settled)
    return joined and not join_undone(history.settled)


def plan_join(builder: PlanBuilder, rule: str, known: KnownMatch) -> None:
    """Plan the join of the ticket to `known`'s issue, under `rule` (the route that would
    have filed it), instead of a Jira create."""
    view, key = builder.view, known.issue.jira
    why = f"about the known issue {known.issue.name} ({key}): {known.because}"
    builder.act(rule, JOIN_STEP, why, JoinJiraIssue(view.id, key, jira_label(view.id),
                                                    join_projects(builder.policy, key)))
    _link_comment_tag(builder, rule, why, key)
    builder.note(rule, "jira_note", why, (
        f"afterhours joined this ticket to the known issue {key} ({known.issue.name}) instead "
        f"of filing a new one; it matched because: {known.because}. A wrong join is undone "
        f"with: afterhours unlink {view.id} {key}"))


def plan_joined(builder: PlanBuilder, rule: str, issue_key: str) -> bool:
    """Once the ticket's join of `issue_key` is recorded (it is then the ticket's issue, so
    the join is not planned again), what follows the join and is not done yet (its comment,
    link, tag and note: failed, cut short by a kill, or re-planned after a conflict), in the
    join's words. False, planning nothing, when the ticket did not join it (it filed it, or
    a lead unlinked it and the issue it has now is its own)."""
    settled = builder.history.settled
    if builder.key(rule, JOIN_STEP) not in settled or join_undone(settled):
        return False
    view, why = builder.view, f"joined the known issue {issue_key}"
    _link_comment_tag(builder, rule, why, issue_key)
    builder.note(rule, "jira_note", why, (
        f"afterhours joined this ticket to the known issue {issue_key} instead of filing a "
        f"new one. A wrong join is undone with: afterhours unlink {view.id} {issue_key}"))
    return True


def plan_issue_side(builder: PlanBuilder) -> None:
    """A closed ticket's Jira issue still gets what is the issue's own once it was filed or
    joined: its remote link to the ticket and, for a join, the comment naming the customer
    (the issue's customer count already counts them). The ticket's tag and note are not."""
    issue, settled = builder.history.jira_issue, builder.history.settled
    if issue is None:
        return
    # A join undone (unlinked, refused) left no issue: the one it has now, it filed.
    undone = join_undone(settled)
    prefix = f"ticket:{builder.view.id}/"
    joins, creates = [], []
    for key in settled:
        if key.startswith(prefix):
            rule, _, step = key[len(prefix):].rpartition("/")
            if step == JOIN_STEP and not undone:
                joins.append(rule)
            elif step == "create_jira_issue":
                creates.append(rule)
    # The rule that filed or joined it names the steps; a second rule's create was skipped,
    # and which of two filed is not known here: those links are left as before.
    rules = joins or creates
    if len(rules) != 1:
        return
    rule = rules[0]
    why = f"joined the known issue {issue.key}" if joins else f"filed as {issue.key}"
    plan_link(builder, rule, why, issue.key)
    if joins:
        _comment(builder, rule, why, issue.key)


def plan_link(builder: PlanBuilder, rule: str, why: str, issue_key: str) -> None:
    """The issue's remote link back to the ticket (filed or joined alike)."""
    view = builder.view
    title = f"Zendesk #{view.id}: {render.one_line(view.subject, 200)}"
    builder.act(rule, "link_jira_issue", why,
                LinkJiraIssue(view.id, issue_key, view.web_url, title))


def plan_tag(builder: PlanBuilder, rule: str, why: str, issue_key: str) -> None:
    """The ticket's jira_<key> tag, unless it is on the ticket already."""
    tag = jira_tag(issue_key)
    if tag in builder.view.tags:
        builder.skip(rule, "jira_tag", f"tags {tag} already on the ticket")
    else:
        builder.act(rule, "jira_tag", why, AddTags(builder.view.id, (tag,)))


def join_undone(settled: frozenset[str]) -> bool:
    """Whether the ticket's join was undone: a lead unlinked it (afterhours unlink), or Jira
    refused it for good (domain.join_refusals)."""
    return any("/unlink:" in key or REFUSED in key for key in settled)


def _left(settled: frozenset[str]) -> frozenset[str]:
    """The issues the ticket never joins again: unlinked from, or refused."""
    unlinked = frozenset(key.rpartition("/unlink:")[2] for key in settled if "/unlink:" in key)
    return unlinked | refused_issues(settled)


def _link_comment_tag(builder: PlanBuilder, rule: str, why: str, issue_key: str) -> None:
    """The steps of a join after the label: the issue's link and comment, the ticket's tag."""
    plan_link(builder, rule, why, issue_key)
    _comment(builder, rule, why, issue_key)
    plan_tag(builder, rule, why, issue_key)


def _comment(builder: PlanBuilder, rule: str, why: str, issue_key: str) -> None:
    view = builder.view
    marker = _marker(builder.key(rule, COMMENT_STEP))
    organization = render.one_line(view.organization or "no organization", 200)
    builder.act(rule, COMMENT_STEP, why, CommentOnIssue(view.id, issue_key, jira_comment(
        f"Another customer affected: #{view.id}, {organization}.", view.id, view.web_url,
        marker)))


def _marker(key: str) -> str:
    from afterhours.domain.effects import note_marker  # noqa: PLC0415  (effects imports us)

    return note_marker(key)


def _arrival(ticket: Ticket, policy: Policy) -> tuple[bool, str]:
    schedule = policy.schedule
    return (not is_business_time(ticket.created_at, schedule),
            describe_moment(ticket.created_at, schedule))
