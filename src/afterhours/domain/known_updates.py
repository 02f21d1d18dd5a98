"""The known issue's status, told after a late join: a ticket acknowledged before it could
join a known or similar issue (its batch's filing waited on Jira, and it joined a pass
later) gets one public reply saying the status its acknowledgement could not say.

Which of the two happened is decided once, in the plan that first joins the ticket, and
written down in the ledger before anything is done (a plan's skips are recorded first), so
a kill or a replay cannot turn one into the other:
- the rule's reply is planned with the join: it says the status itself (`told_with_join`);
- the rule's reply was settled before the join was planned (`acknowledged_before_join`):
  the follow-up (`known_issue_update/reply`) is owed, and planned until it is settled.
A follow-up owed is withheld for good (`withheld`) once a person replied in public (the
agent owns the conversation) or the ticket is solved; an undone join (unlinked, refused)
plans none, as its plans do not come here. Its key ends in `/reply`, so it counts as
afterhours' own reply, never as a person's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from afterhours.domain.actions import AddPublicReply
from afterhours.domain.known_issues import JOIN_STEP, join_undone, known_status
from afterhours.domain.ladders import REPLY_STEP, human_replied
from afterhours.policy.model import Policy
from afterhours.policy.templates import placeholders

if TYPE_CHECKING:
    from afterhours.domain.effects import PlanBuilder

UPDATE_RULE = "known_issue_update"
TOLD_STEP = "told_with_join"
LATE_STEP = "acknowledged_before_join"
WITHHELD_STEP = "withheld"
SOLVED_FIRST = "the ticket was solved before the known issue's status was told"
# Why the shell withholds a follow-up planned for a join that was settled but never done.
JOIN_NOT_DONE = ("its join was settled without being done (the ticket closed meanwhile, or it "
                 "filed its own issue): the status is not its issue's")
DEFAULT_UPDATE = ("Hello,\n\nAn update on your request (ticket #{ticket_id}): it concerns a "
                  "problem we already know of.\n\n{known_issue}\n")


def update_template(policy: Policy) -> str | None:
    """The follow-up's text (policy known_issue_update:): the template named, afterhours'
    own words when none is named, None when the policy turned it off."""
    chosen = policy.known_issue_update
    if chosen is False:
        return None
    if chosen is None:
        return DEFAULT_UPDATE
    return policy.templates.get(chosen)


def plan_status_update(builder: PlanBuilder, rule: str, reply: str | None,
                       issue_key: str) -> None:
    """After the join of `issue_key` under `rule` (whose reply is the template `reply`):
    decide, in a plan that joins (the join not settled yet), whether its reply says the
    status or a follow-up must; then plan that follow-up until it is settled or withheld."""
    settled, key = builder.history.settled, builder.key
    if any(key(UPDATE_RULE, step) in settled for step in (REPLY_STEP, WITHHELD_STEP,
                                                          TOLD_STEP)):
        return
    if _decided(builder):  # by the plan's first filing rule (routes: match: all)
        return
    if key(UPDATE_RULE, LATE_STEP) not in settled:
        if key(rule, JOIN_STEP) in settled:  # joined with no follow-up decided on: told
            return
        says = reply is not None and "known_issue" in placeholders(
            builder.policy.templates.get(reply, ""))
        if says and key(rule, REPLY_STEP) not in settled:
            builder.skip(UPDATE_RULE, TOLD_STEP,
                         f"the reply planned with the join of {issue_key} says its status")
            return
        if not (says and _status(builder) and update_template(builder.policy) is not None):
            return
        builder.skip(UPDATE_RULE, LATE_STEP,
                     f"acknowledged before it could join {issue_key}, without its status: "
                     "a follow-up reply says it")
    plan_update(builder, issue_key)


def plan_update(builder: PlanBuilder, issue_key: str) -> None:
    """The follow-up owed after a late join: sent while nobody replied in public since the
    acknowledgement, else withheld for good."""
    view = builder.view
    if human_replied(view, builder.own_replies):
        builder.skip(UPDATE_RULE, WITHHELD_STEP, "a person replied in public since the "
                     "acknowledgement: the agent owns the conversation")
        return
    if view.solved_at is not None:  # solved meanwhile and reopened: the status is stale
        builder.skip(UPDATE_RULE, WITHHELD_STEP, SOLVED_FIRST)
        return
    template = update_template(builder.policy)
    if template is None or not _status(builder):  # turned off since, or nothing to say
        return
    key = builder.unsettled(UPDATE_RULE, REPLY_STEP)
    if key is not None:
        builder.add(key, UPDATE_RULE,
                    f"acknowledged before it joined {issue_key}: its status, told once",
                    AddPublicReply(view.id, builder.filled(template)))


def withhold_when_closed(builder: PlanBuilder) -> None:
    """A follow-up still owed when the ticket is solved or closed is never sent: reopened
    later (say, by its issue's fix), the status it would say is stale."""
    settled, key = builder.history.settled, builder.key
    if (key(UPDATE_RULE, LATE_STEP) in settled and key(UPDATE_RULE, REPLY_STEP) not in settled
            and not join_undone(settled)):  # an undone join owes nothing: no reason to give
        builder.skip(UPDATE_RULE, WITHHELD_STEP, SOLVED_FIRST)


def _decided(builder: PlanBuilder) -> bool:
    """Whether this plan already decided on the follow-up: one ticket hears it once, however
    many of its routes joined."""
    keys = {builder.key(UPDATE_RULE, step)
            for step in (TOLD_STEP, LATE_STEP, WITHHELD_STEP, REPLY_STEP)}
    return any(s.key in keys for s in builder.skips) or any(
        p.key in keys for p in builder.actions)


def _status(builder: PlanBuilder) -> str:
    return known_status(builder.view, builder.policy, builder.history)
