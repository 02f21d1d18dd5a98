"""The demo's report: per ticket, what afterhours did or left alone, and why."""

from __future__ import annotations

from collections import Counter
from typing import TextIO

from afterhours.demo.night import START, STEP, DemoNight
from afterhours.domain.render import one_line
from afterhours.domain.schedule import describe_moment, is_business_time

_MARKS = {"done": "+", "skipped": "-", "failed": "!", "deferred": "~", "conflict": "?"}


def write_report(night: DemoNight, out: TextIO) -> None:
    """Print, per ticket, the audit trail of the night, then the API cost."""
    policy = night.policy
    state = night.service.state
    out.write(
        f"afterhours demo: {len(night.reports)} passes, one every "
        f"{int(STEP.total_seconds() // 60)} minutes of accelerated time, from "
        f"{describe_moment(START, policy.schedule)} to "
        f"{describe_moment(night.clock(), policy.schedule)}\n\n"
    )
    for ticket_id in sorted(night.ticket_ids.values()):
        snapshot = state.ticket(ticket_id)
        if snapshot is None:
            continue
        hours = "business hours" if is_business_time(snapshot.created_at, policy.schedule) \
            else "after hours"
        out.write(
            f"#{ticket_id} {one_line(snapshot.subject, 60)!r} from {snapshot.requester_email}\n"
            f"   created {describe_moment(snapshot.created_at, policy.schedule)} ({hours});"
            f" now {snapshot.status}, priority {snapshot.priority or 'none'},"
            f" group {snapshot.group or 'none'}\n"
        )
        rows = state.audit(ticket_id=ticket_id)
        if not rows:
            out.write("   (nothing: no rule applies)\n")
        for row in rows:
            what = row.action or "ticket"
            extra = f" -> {row.detail['issue_key']}" if "issue_key" in row.detail and \
                row.action == "CreateJiraIssue" else ""
            out.write(f"   {_MARKS.get(row.outcome, '*')} {row.outcome:<8} {what:<16}"
                      f"{extra} [{row.rule}] {row.reason}\n")
        out.write("\n")
    _write_outside(night, out)


def _write_outside(night: DemoNight, out: TextIO) -> None:
    out.write("Jira issues filed:\n")
    for issue in night.jira.issues():
        links = night.jira.remote_links(issue["key"])
        out.write(f"   {issue['key']} {issue['fields']['summary']!r}"
                  f" labels={issue['fields']['labels']} remote links={len(links)}\n")
    out.write("Chat messages:\n")
    for channel in night.policy.channels:
        for text in night.chat.messages(channel):
            out.write(f"   #{channel}: {text}\n")
    _write_targets(night, out)
    totals = Counter[str]()
    for report in night.reports:
        totals.update({"done": report.done, "skipped": report.skipped, "failed": report.failed,
                       "deferred": report.deferred, "conflicts": report.conflicts})
    out.write(f"Actions: {dict(totals)}\n")
    last = night.reports[-1] if night.reports else None
    if last is not None:
        out.write(f"Last pass (nothing new happened): done={last.done} skipped={last.skipped}\n")
    for name, twin in (("Zendesk", night.zendesk), ("Jira", night.jira)):
        counts = twin.server.requests
        out.write(f"{name} API requests: {sum(counts.values())} "
                  + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) + "\n")



def _write_targets(night: DemoNight, out: TextIO) -> None:
    """The PagerDuty incidents, the mail and the Slack Web API messages, as the twins have
    them at the end of the night."""
    targets = night.targets
    out.write("PagerDuty incidents:\n")
    for incident in targets.pagerduty.incidents():
        out.write(f"   {incident.service}: {incident.title!r} triggered {incident.triggers}x,"
                  f" now {incident.status}\n")
    out.write("Mail:\n")
    if targets.smtp is None:
        out.write("   none: the SMTP twin needs aiosmtpd (pip install 'afterhours[dev]')\n")
    for mail in targets.smtp.messages() if targets.smtp is not None else ():
        out.write(f"   to {mail['To']}: {mail['Subject']!r}\n")
    out.write("Slack messages (Web API), as they read now:\n")
    for name, channel in night.policy.channels.items():
        for message in targets.slack.messages(channel.conversation or "") \
                if channel.type == "slack" else ():
            edited = " (updated in place)" if message.get("edited") else ""
            out.write(f"   #{name}{edited}: {message['text']}\n")
