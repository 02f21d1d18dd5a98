"""`afterhours check --live`: look up every name the policy uses where it must exist, and send
one test message to each chat channel ("test communication channels before each shift").

Orchestration only, over injected ports: nothing here reads settings, builds a client or
prints. Each lookup failure becomes a readable line, never a traceback, and one reference's
failure (a missing group, Jira down for a call) never stops the others from being checked.
The ports it is given are in live_ports.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVar

import structlog

from afterhours.adapters.ports import Notifier
from afterhours.errors import AccessError, PermanentError, ServiceError, TransientError
from afterhours.inspect.live_ports import JiraDirectory, TargetProbe, Targets, ZendeskDirectory

T = TypeVar("T")
log = structlog.get_logger()

ReferenceKind = Literal["channel", "group", "agent", "jira_project", "jira_issue_type",
                        "jira_component", "jira_priority", "field", "pagerduty", "email",
                        "slack"]
EXIT_OK, EXIT_FAILED = 0, 2
_SERVICES = {"zendesk": "Zendesk", "jira": "Jira", "pagerduty": "PagerDuty", "smtp": "SMTP"}
_NOT_FOUND = {"group": "no Zendesk group named {name!r}",
              "agent": "no Zendesk agent or admin has the email {name!r}"}

__all__ = ["EXIT_FAILED", "EXIT_OK", "JiraDirectory", "LiveResult", "Reference", "ReferenceKind",
           "TargetProbe", "Targets", "ZendeskDirectory", "channel_test_text", "check_live",
           "live_exit_code", "render_live"]


@dataclass(frozen=True)
class Reference:
    """A name the policy uses, and where: `where` is its place in the policy."""

    kind: ReferenceKind
    name: str
    where: str  # e.g. "routes.billing.group"
    project: str | None = None  # the Jira project of an issue type or a component


@dataclass(frozen=True)
class LiveResult:
    """What the live check found for one reference."""

    reference: Reference
    ok: bool
    detail: str


def channel_test_text(now: datetime) -> str:
    """The text posted to each channel."""
    stamp = now.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    return (f"[afterhours] test message from `afterhours check --live` at {stamp}: "
            "this channel is wired up")


class _Missing(Exception):  # noqa: N818  (a finding of the check, not an error of ours)
    """The service answered, and the name is not there; the message says so."""


class _Memo:
    """Each lookup once per run, its failure included: a name used in five places costs one
    call, and a service that failed is not asked (and waited for) five times over."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], object] = {}

    def get(self, kind: str, name: str, lookup: Callable[[], T]) -> T:
        key = (kind, name)
        if key not in self._seen:
            try:
                self._seen[key] = lookup()
            except ServiceError as error:
                self._seen[key] = error
        found = self._seen[key]
        if isinstance(found, ServiceError):
            raise found
        return found  # type: ignore[return-value]  # stored by this same lookup, so a T


@dataclass
class _Checker:
    desk: ZendeskDirectory
    tracker: JiraDirectory
    notifier: Notifier
    text: str
    run: str
    memo: _Memo
    targets: Targets | None = None

    def check(self, ref: Reference) -> str:
        """The detail of a reference that checks out; _Missing or ServiceError otherwise."""
        memo = self.memo
        if ref.kind == "channel":
            memo.get("channel", ref.name, lambda: self._send(ref.name))
            return "test message delivered"
        if ref.kind == "group":
            found = memo.get("group", ref.name, lambda: self.desk.group_id(ref.name))
            return f"Zendesk group id {found}"
        if ref.kind == "agent":
            found = memo.get("agent", ref.name, lambda: self.desk.agent_id(ref.name))
            return f"Zendesk user id {found}"
        if ref.kind == "field":
            titles = memo.get("fields", "", self.desk.field_titles)
            if ref.name not in titles:
                raise _Missing(f"no Zendesk ticket field titled {ref.name!r}{_listing(titles)}")
            return "Zendesk ticket field found"
        if ref.kind == "jira_priority":
            names = memo.get("priorities", "", self.tracker.priority_names)
            if ref.name not in names:
                raise _Missing(f"no Jira priority named {ref.name!r}{_listing(names)}")
            return "Jira priority found"
        targeted = ref.kind in ("pagerduty", "email", "slack")
        return self._target(ref) if targeted else self._in_project(ref)

    def _target(self, ref: Reference) -> str:
        """Reach a PagerDuty or email channel (and with --send-test, send it a test)."""
        if self.targets is None:
            raise _Missing("not checked: no PagerDuty or SMTP settings were given")
        probe, memo, run = self.targets.probe, self.memo, self.run
        if ref.kind == "slack":
            conversation = self.targets.conversations.get(ref.name, "")
            return memo.get("slack", ref.name,
                            lambda: probe.reach_slack(conversation, run, self.text))
        if ref.kind == "pagerduty":
            said = memo.get("pagerduty", ref.name, lambda: probe.reach_pager(ref.name))
            if self.targets.send_test:
                said += "; " + memo.get("test_page", ref.name,
                                        lambda: probe.test_page(ref.name, run))
            return said
        said = memo.get("smtp", "", probe.reach_mail)
        to = self.targets.mail_to.get(ref.name, ())
        if self.targets.send_test and to:
            said += "; " + memo.get("test_mail", ref.name,
                                    lambda: probe.test_mail(ref.name, to, run))
        return said

    def _send(self, channel: str) -> None:
        self.notifier.notify(channel, self.text,
                             key=f"afterhours-check-live:{self.run}:{channel}")

    def _in_project(self, ref: Reference) -> str:
        key = ref.name if ref.kind == "jira_project" else ref.project
        if key is None:
            raise _Missing("names no Jira project to look in")
        facts = self.memo.get("project", key, lambda: self.tracker.project_facts(key))
        if facts is None:
            raise _Missing(f"no Jira project {key} (or the Jira account may not browse it)")
        if ref.kind == "jira_project":
            return f"Jira project {facts.key} ({facts.name})"
        noun, names = (("issue type", facts.issue_types) if ref.kind == "jira_issue_type"
                       else ("component", facts.components))
        if ref.name not in names:
            raise _Missing(
                f"Jira project {facts.key} has no {noun} {ref.name!r}{_listing(names)}")
        return f"{noun} found in Jira project {facts.key}"


def check_live(
    references: Iterable[Reference],
    *,
    desk: ZendeskDirectory,
    tracker: JiraDirectory,
    notifier: Notifier,
    now: datetime,
    run_id: str | None = None,
    targets: Targets | None = None,
) -> list[LiveResult]:
    """Check each reference against the live services, in order; one result per reference.

    One test message goes to each distinct chat channel, under an idempotency key of this
    run (`run_id`, default `now`) and the channel, so a retried send does not post twice.
    PagerDuty and email channels are reached without paging or mailing anyone (`targets`),
    and sent one test page (resolved at once) and mail with `targets.send_test`.
    """
    checker = _Checker(desk, tracker, notifier, channel_test_text(now),
                       run_id or now.isoformat(), _Memo(), targets)
    results = []
    for ref in references:
        try:
            result = LiveResult(ref, True, checker.check(ref))
        except _Missing as missing:
            result = LiveResult(ref, False, str(missing))
        except ServiceError as error:
            result = LiveResult(ref, False, _failure(ref, error))
        except Exception as error:
            # A bug of ours or an adapter's: still one line, and the other references checked.
            log.exception("live.check_crashed", kind=ref.kind, name=ref.name)
            result = LiveResult(ref, False, f"unexpected {type(error).__name__}: {error}")
        log.info("live.reference_checked", kind=ref.kind, name=ref.name, where=ref.where,
                 project=ref.project, ok=result.ok, detail=result.detail)
        results.append(result)
    log.info("live.finished", references=len(results), failed=sum(not r.ok for r in results))
    return results


def _listing(names: Iterable[str]) -> str:
    known = sorted(names)
    if not known:
        return " (it has none)"
    shown = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
    return f" (it has: {shown})"


def _failure(ref: Reference, error: ServiceError) -> str:
    """What a failed lookup means, in words; the service's own words when it gave some."""
    reason = str(error).removeprefix(f"{error.service}: ")
    if error.service == "chat":
        return _chat_failure(ref.name, error, reason)
    if isinstance(error, PermanentError) and error.status is None and ref.kind in _NOT_FOUND:
        # The adapters' "nothing has that name": no HTTP status, the lookup came up empty.
        return _NOT_FOUND[ref.kind].format(name=ref.name)
    who = _SERVICES.get(error.service, error.service)
    if isinstance(error, AccessError):
        return f"{who} refused access ({error.status}): {reason}"
    if error.status is not None:
        return f"{who} answered {error.status}: {reason}"
    return f"{who} did not answer: {reason}"


def _chat_failure(channel: str, error: ServiceError, reason: str) -> str:
    if error.status is not None:
        return f"webhook answered {error.status}"
    reason = reason.removeprefix(f"{channel}: ")
    if isinstance(error, TransientError):
        return f"webhook did not answer ({reason})"
    return reason  # e.g. no webhook URL configured for the channel


def _label(ref: Reference) -> str:
    if ref.kind == "channel":
        return f"channel {ref.name}"
    if ref.kind in ("pagerduty", "email", "slack"):
        said = {"pagerduty": "PagerDuty", "email": "email", "slack": "Slack"}[ref.kind]
        return f"{said} channel {ref.name}"
    if ref.kind == "jira_project":
        return f"Jira project {ref.name}"
    noun = {"group": "group", "agent": "agent", "field": "field",
            "jira_priority": "Jira priority", "jira_issue_type": "Jira issue type",
            "jira_component": "Jira component"}[ref.kind]
    suffix = f" in {ref.project}" if ref.project and ref.kind != "jira_priority" else ""
    return f"{noun} {ref.name!r}{suffix}"


def render_live(results: Sequence[LiveResult]) -> str:
    """One line per reference: `ok   <what>: <detail>`, or `FAIL <what> (<where>): <detail>`
    (a failure says where in the policy the name is, to fix it)."""
    lines = [f"ok   {_label(r.reference)}: {r.detail}" if r.ok
             else f"FAIL {_label(r.reference)} ({r.reference.where}): {r.detail}"
             for r in results]
    return "\n".join(lines) + ("\n" if lines else "")


def live_exit_code(results: Sequence[LiveResult]) -> int:
    """0 when every reference checked out, 2 when any did not."""
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED
