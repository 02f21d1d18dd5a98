"""What each command's `--help` ends with: the settings it reads, the signals it answers and
its exit codes. The settings' lines come from the settings classes themselves, so `--help`
cannot drift from what a command reads."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from afterhours.settings import SECRET_FILE_SETTINGS, Settings, file_variable

WIDTH = 100  # the epilog's lines, as the source's
_STATE = ("state_url", "state_db")
_LOGS = ("log_format", "log_level", "library_log_level")
_ZENDESK = ("zendesk_url", "zendesk_email", "zendesk_token", "http_timeout")
_LIVE = (*_ZENDESK, "jira_url", "jira_email", "jira_token", "webhooks",
         "pagerduty_routing_keys", "pagerduty_events_url", "smtp_url", "smtp_user",
         "smtp_password", "smtp_from", "smtp_ca_file")
_INTERRUPT = (("SIGINT (Ctrl-C)", "stops the command at once; nothing is written"),)
_BAD_INPUT = "bad input: a setting, an option or the policy is wrong (the message names it)"


@dataclass(frozen=True)
class CommandHelp:
    """The facts a command's `--help` ends with."""

    settings: tuple[str, ...]
    exits: tuple[tuple[int, str], ...]
    signals: tuple[tuple[str, str], ...] = _INTERRUPT
    note: str = ""


_READS = ((0, "done"), (2, _BAD_INPUT))
HELP = {
    "run": CommandHelp(
        tuple(Settings.model_fields),
        ((0, "--once: the pass completed (deferred actions included: the next run retries"
             " them); without --once: stopped by SIGTERM or SIGINT"),
         (1, "--once: the pass could not complete or an action failed for good, or another"
             " replica holds the lease; the state store failed during the run"),
         (2, _BAD_INPUT + "; the state store cannot be used")),
        (("SIGTERM, SIGINT", "finish the action in hand, record it, then exit 0"),
         ("SIGHUP", "reload the policy now (it also reloads when the file changes)"))),
    "check": CommandHelp(
        ("policy_file", *_LOGS, *_LIVE),
        ((0, "the policy is valid (and with --live, every name was found)"),
         (2, "the policy is wrong (every problem as file:line:column), or with --live a"
             " lookup failed")),
        note="--live reads the Zendesk, Jira, webhook, PagerDuty and SMTP settings (--send-test:"
             " a test page and mail too); check alone only the policy."),
    "schema": CommandHelp((), ((0, "printed"),), ()),
    "config": CommandHelp(
        tuple(Settings.model_fields),
        ((0, "printed; with --check: every setting is valid"),
         (2, "--check: a setting is wrong (each named, with what is wrong and an example)"))),
    "demo": CommandHelp(
        (), ((0, "the night ran and was reported"), (2, "the policy (--policy) is wrong")),
        note="The demo reads no AFTERHOURS_ variable: it runs on twins of its own."),
    "twins": CommandHelp(
        (), ((0, "stopped by SIGTERM or SIGINT"), (2, "a ticket file or a port is wrong")),
        (("SIGTERM, SIGINT", "stop the twins and exit 0"),),
        note="The twins read no AFTERHOURS_ variable: they print the ones to set."),
    "audit": CommandHelp(
        (*_STATE, *_LOGS), _READS,
        (("SIGINT, SIGTERM", "with --follow: stop following, exit 0"),)),
    "failed": CommandHelp(_STATE, _READS),
    "retry": CommandHelp(
        _STATE, ((0, "released"), (1, "a key is known but not parked"),
                 (2, "a key is unknown, or " + _BAD_INPUT))),
    "unlink": CommandHelp(
        (*_STATE, "zendesk_url", "jira_url", "jira_email", "jira_token", "http_timeout",
         *_LOGS),
        ((0, "unlinked; the next pass files the ticket's own issue"),
         (1, "Jira could not be reached: nothing was changed"),
         (2, "the ticket has not joined that issue, or " + _BAD_INPUT))),
    "explain": CommandHelp(
        ("policy_file", *_ZENDESK, *_STATE, *_LOGS),
        ((0, "explained"), (1, "Zendesk could not be read"),
         (2, "no such ticket, or " + _BAD_INPUT))),
    "replay": CommandHelp(
        ("policy_file", *_ZENDESK, *_LOGS),
        ((0, "replayed"), (1, "Zendesk could not be read"), (2, _BAD_INPUT))),
    "import-schedule": CommandHelp(
        (*_ZENDESK, *_LOGS),
        ((0, "printed or written"), (1, "Zendesk could not be read"), (2, _BAD_INPUT))),
    "report": CommandHelp(
        ("policy_file", *_STATE, *_LOGS),
        ((0, "written"), (2, "no state database, or " + _BAD_INPUT))),
    "completion": CommandHelp((), ((0, "printed"), (2, "an unknown shell")), ()),
    "webhooks": CommandHelp((), ((0, "printed"), (2, "--url is not an http(s) URL")), ()),
}


def epilog(command: str) -> str:
    """The end of `afterhours COMMAND --help`: settings read, signals, exit codes."""
    facts = HELP[command]
    lines = []
    if facts.settings:
        lines.append("settings read (environment variables; an option given wins):")
        width = max(len(_variable(n)) for n in facts.settings) + 2
        for name in facts.settings:
            lines += _wrapped(f"  {_variable(name):<{width}}{_description(name)}", width + 2)
            if name in SECRET_FILE_SETTINGS:
                lines.append(f"  {file_variable(name):<{width}}a file holding"
                             f" {_variable(name)} (a mounted secret)")
    else:
        lines.append("settings read: none")
    if facts.note:
        lines.append(facts.note)
    lines.append("signals:")
    for sig, what in facts.signals:
        lines += _wrapped(f"  {sig}: {what}", 4)
    lines.append("exit codes:")
    for code, what in facts.exits:
        lines += _wrapped(f"  {code}  {what}", 5)
    return "\n".join(lines)


def _wrapped(line: str, indent: int) -> list[str]:
    return textwrap.wrap(line, WIDTH, subsequent_indent=" " * indent,
                         break_on_hyphens=False) or [line]


def _variable(name: str) -> str:
    return f"AFTERHOURS_{name.upper()}"


def _description(name: str) -> str:
    field = Settings.model_fields.get(name)
    described = field.description if field is not None else None
    return described or {
        "log_level": "debug, info, warning or error (any case)",
    }.get(name, "")
