"""`afterhours webhooks print`: what an admin configures in Zendesk and Jira for push mode (the
endpoints, the events, a trigger's condition and JSON body, where the secrets go), as text
to follow in Admin Center or as the API's JSON bodies. Reads no setting, calls nothing."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from afterhours.errors import ConfigError
from afterhours.push.routes import JIRA_PATH, ZENDESK_PATH
from afterhours.settings import url_problem

EXIT_OK = 0
PLACEHOLDER = "https://afterhours.example.com"
# The ticket events a plan depends on: a new ticket, and a change to anything a rule reads.
TICKET_EVENTS = tuple(f"zen:event-type:ticket.{name}" for name in (
    "created", "comment_added", "status_changed", "priority_changed", "tags_changed",
    "subject_changed", "description_changed", "group_assignment_changed",
    "agent_assignment_changed", "organization_changed", "requester_changed",
    "custom_field_changed"))
TRIGGER_BODY = '{"ticket_id": "{{ticket.id}}"}'
JIRA_EVENTS = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted")


def add_webhooks(parser: argparse.ArgumentParser) -> None:
    """The arguments of `afterhours webhooks`."""
    parser.description = (
        "Print what to configure for push mode: a Zendesk webhook (subscribed to ticket events,"
        " or connected to a trigger) and a Jira webhook, with the endpoints on --url and where"
        " their secrets go. Reads no setting and calls nothing.")
    parser.add_argument("action", choices=("print",), nargs="?", default="print",
                        help="print (the default): show the configuration")
    parser.add_argument("--url", metavar="URL", default=None,
                        help="the public https URL Zendesk and Jira reach this daemon's HTTP"
                             f" server at (default: {PLACEHOLDER}, to replace)")
    parser.add_argument("--output", "-o", choices=("text", "json"), default="text",
                        help="text to follow in Admin Center (default), or json: the API's"
                             " request bodies")
    parser.set_defaults(command=run_webhooks)


def run_webhooks(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Print the configuration for push mode."""
    out = out or sys.stdout
    base = (args.url or PLACEHOLDER).rstrip("/")
    problem = url_problem(base)
    if problem:
        raise ConfigError(f"--url {problem}; give the public URL, e.g. {PLACEHOLDER}")
    config = configuration(base)
    if args.output == "json":
        out.write(json.dumps(config, indent=2) + "\n")
    else:
        out.write(_text(config, placeholder=args.url is None))
    return EXIT_OK


def configuration(base: str) -> dict[str, Any]:
    """Both sides' configuration as the APIs take it, endpoints on `base`."""
    zendesk, jira = base + ZENDESK_PATH, base + JIRA_PATH
    webhook = {"name": "afterhours push", "status": "active", "endpoint": zendesk,
               "http_method": "POST", "request_format": "json"}
    return {
        "zendesk": {
            "endpoint": zendesk,
            "secret_setting": "AFTERHOURS_ZENDESK_WEBHOOK_SECRET",
            # POST /api/v2/webhooks: one or the other (a webhook cannot do both).
            "events_webhook": {"webhook": {**webhook, "subscriptions": list(TICKET_EVENTS)}},
            "trigger_webhook": {"webhook": {**webhook,
                                            "subscriptions": ["conditional_ticket_events"]}},
            # POST /api/v2/triggers, with the trigger webhook's id.
            "trigger": {"trigger": {
                "title": "afterhours push",
                "conditions": {"all": [], "any": [
                    {"field": "update_type", "operator": "is", "value": "Create"},
                    {"field": "update_type", "operator": "is", "value": "Change"}]},
                "actions": [{"field": "notification_webhook",
                             "value": ["WEBHOOK_ID", TRIGGER_BODY]}]}},
        },
        "jira": {"url": jira, "events": list(JIRA_EVENTS),
                 "secret_setting": "AFTERHOURS_JIRA_WEBHOOK_SECRET"},
    }


def _text(config: dict[str, Any], *, placeholder: bool) -> str:
    zendesk, jira = config["zendesk"], config["jira"]
    events = "\n".join(f"                     {e}" for e in TICKET_EVENTS).lstrip()
    lines = [
        "Push mode: Zendesk and Jira call afterhours as tickets and issues change; the poll"
        " still runs.",
        *(["(the URLs below are a placeholder: give --url, the public https URL of"
           " AFTERHOURS_HTTP_LISTEN)"] if placeholder else []),
        "",
        "Zendesk: Admin Center > Apps and integrations > Webhooks > Create webhook, either",
        "  A. subscribed to Zendesk events:",
        f"     Endpoint URL:   {zendesk['endpoint']}",
        "     Method, format: POST, JSON",
        f"     Events:         {events}",
        "  B. or connected to a trigger or automation (same URL, POST, JSON), then",
        "     Admin Center > Objects and rules > Triggers > Add trigger:",
        "     Conditions:     meet ANY of: Ticket | Is | Created; Ticket | Is | Updated",
        "     Action:         Notify by > Active webhook: the webhook above, JSON body:",
        f"                     {TRIGGER_BODY}",
        "  Then on the webhook's page: Signing secret > Reveal secret, and set it as",
        f"  {zendesk['secret_setting']} (or {zendesk['secret_setting']}_FILE).",
        "",
        "Jira: Settings > System > WebHooks > Create a WebHook:",
        f"  URL:     {jira['url']}",
        "  Events:  Issue: created, updated, deleted",
        "  Secret:  generate one, and set it as"
        f" {jira['secret_setting']} (or {jira['secret_setting']}_FILE)",
        "",
        "`afterhours webhooks print --output json` gives the same as the APIs' request bodies.",
    ]
    return "\n".join(lines) + "\n"
