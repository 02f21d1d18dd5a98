"""The daemon's side of acknowledgements: between passes, each one queued is recorded in the
ledger (the first for a ticket is the fact the planner reads; every one is audited with who,
when and from where) and its ticket made due now; the pass that follows stops the ladders
it stops, notes it on the ticket and resolves the pages. A click in Slack also has its
message replaced to say who has the ticket; Take it names the agent to assign it to, found
by the clicker's Slack member id in the roster (`slack_ids`)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import structlog

from afterhours.domain import chat
from afterhours.errors import ServiceError
from afterhours.policy.model import Policy
from afterhours.push.acknowledgements import AckEvent
from afterhours.push.queue import PushQueue

if TYPE_CHECKING:
    from afterhours.service import Service

log = structlog.get_logger()


def agent_for(policy: Policy, slack_user: str) -> str | None:
    """The agent (email) whose Slack member id is `slack_user`, from any team's roster."""
    return next((person for team in policy.oncall.values()
                 for person, member in team.slack_ids.items()
                 if member == slack_user and "@" in person), None)


def take_acks(service: Service, queue: PushQueue) -> int:
    """Record the acknowledgements waiting, in one transaction, then update the messages
    clicked; return how many were taken."""
    events = queue.take_acks()
    if not events:
        return 0
    now = service.clock()
    taken: list[tuple[AckEvent, bool]] = []
    with service.state.batch():
        for event in events:
            assignee = (agent_for(service.policy, event.slack_user)
                        if event.take and event.slack_user else None)
            ack = replace(event.ack, assignee=assignee)
            first = service.state.record_acknowledgement(
                event.ticket_id, ack, at=now,
                detail={"page": event.page, "event_id": event.event_id,
                        "slack_user": event.slack_user, "take": event.take})
            # The name is one cleaned line (push.acknowledgements); structlog quotes it.
            log.info("acknowledgement.recorded", ticket_id=event.ticket_id,
                     source=event.ack.source, who=event.ack.who, first=first,
                     assigned=assignee is not None)
            taken.append((event, assignee is not None))
    for event, assigned in taken:
        if event.response_url is not None:
            _update(service, event, assigned)
    return len(events)


def _update(service: Service, event: AckEvent, assigned: bool) -> None:
    """Replace the clicked message: who has the ticket, and what Take it did."""
    ticket = service.state.ticket(event.ticket_id)
    link = f" {chat.link(ticket.web_url)}" if ticket is not None else ""
    who = f"<@{event.slack_user}>"  # a member id parse_slack checked: no customer text
    said = (f"[afterhours] ticket #{event.ticket_id}{link}: acknowledged by {who} at"
            f" {event.ack.at:%H:%M} UTC; the escalation stops.")
    if event.take:
        said += (f" Taken: assigned to {who}." if assigned else
                 f" Take it: {who} is not in the on-call roster (slack_ids), so nothing was"
                 " assigned.")
    try:
        service.notifier.update_message(event.response_url or "", said)
    except ServiceError as error:  # the click is recorded all the same
        log.warning("acknowledgement.update_failed", ticket_id=event.ticket_id,
                    error=str(error))
