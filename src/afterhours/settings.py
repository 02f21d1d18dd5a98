"""Settings from the environment (12-factor), each variable prefixed AFTERHOURS_; read here only.

Settings, what the daemon needs, is here; the LocalSettings it extends in settings_local; the
command line and the secret files as sources in settings_sources; the checks of single values
in settings_values. The rest of afterhours imports every one of these names from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator, model_validator

from afterhours.settings_local import (
    ENUM_SETTINGS,
    EnvironmentSecrets,
    LocalSettings,
    LogLevel,
    RoutingKeys,
    Webhooks,
    register_environment_secrets,
)
from afterhours.settings_sources import (
    JSON_SECRET_SETTINGS,
    SECRET_FILE_SETTINGS,
    CommandLine,
    SecretFiles,
    command_line_settings,
    command_line_values,
    file_variable,
)
from afterhours.settings_values import (
    PAGERDUTY_EVENTS_URL,
    STATE_URL_SCHEMES,
    parse_listen,
    routing_key_problem,
    state_url_for,
    url_problem,
)

# The names the rest of afterhours imports from here, wherever they are defined.
__all__ = [
    "ENUM_SETTINGS", "JSON_SECRET_SETTINGS", "PAGERDUTY_EVENTS_URL", "SECRET_FILE_SETTINGS",
    "STATE_URL_SCHEMES", "CommandLine", "EnvironmentSecrets", "LocalSettings", "LogLevel",
    "RoutingKeys", "SecretFiles", "Settings", "Webhooks", "command_line_settings",
    "command_line_values", "file_variable", "parse_listen", "register_environment_secrets",
    "routing_key_problem", "state_url_for", "url_problem",
]


class Settings(LocalSettings):
    """Everything the daemon needs to know about its surroundings."""

    zendesk_url: AnyHttpUrl = Field(description="Zendesk base URL, e.g. https://acme.zendesk.com")
    zendesk_email: str = Field(description="the agent the daemon acts as")
    zendesk_token: SecretStr = Field(description="that agent's API token")
    jira_url: AnyHttpUrl = Field(description="Jira base URL, e.g. https://acme.atlassian.net")
    jira_email: str = Field(description="the Jira account the daemon acts as")
    jira_token: SecretStr = Field(description="that account's API token")
    webhooks: Webhooks = Field(
        default_factory=dict,
        description='chat webhook URL per policy channel, as JSON: {"finance": "https://..."}',
    )
    pagerduty_routing_keys: RoutingKeys = Field(
        default_factory=dict,
        description="Events API v2 integration key per policy channel of type pagerduty, as"
        ' JSON: {"oncall-pager": "<32-character key>"}',
    )
    pagerduty_events_url: AnyHttpUrl = Field(
        AnyHttpUrl(PAGERDUTY_EVENTS_URL),
        description="PagerDuty's Events API (https://events.eu.pagerduty.com for an EU"
        " account); /v2/enqueue is added",
    )
    smtp_url: SecretStr | None = Field(
        None, description="the SMTP server for channels of type email: smtp://host:587"
        " (STARTTLS) or smtps://host:465 (TLS); may carry user:password@",
    )
    smtp_user: str | None = Field(None, description="the SMTP login (else the URL's user)")
    smtp_password: SecretStr | None = Field(
        None, description="the SMTP password (else the URL's)")
    smtp_from: str | None = Field(
        None, description="the sender of escalation mail, e.g. afterhours@acme.example")
    smtp_ca_file: Path | None = Field(
        None, description="CA certificates (PEM) to trust for the SMTP server, besides the"
        " system's: a private CA's",
    )
    poll_interval: float = Field(60.0, gt=0, description="seconds between passes")
    backfill_hours: float = Field(
        24.0, ge=0, description="on first start, how far back the export begins"
    )
    http_timeout: float = Field(30.0, gt=0, description="seconds for any one HTTP request")
    jira_search_lag: float = Field(
        180.0, ge=0,
        description="seconds Jira search may take to show a new issue; after a create whose"
        " answer was lost, filing again waits this long (a second issue is worse than a late one)",
    )
    zendesk_rate_limit: int = Field(
        200, ge=1,
        description="requests a minute the Zendesk account allows (200 to 2,500 by plan); the"
        " lower of this and Zendesk's X-Rate-Limit header counts",
    )
    zendesk_export_rate_limit: int = Field(
        10, ge=1,
        description="requests a minute Zendesk's incremental export allows (10; 30 with the"
        " High Volume API add-on)",
    )
    jira_rate_limit: int = Field(
        600, ge=1, description="requests a minute afterhours sends to Jira at most",
    )
    rate_share: float = Field(
        0.5, gt=0, le=1,
        description="the share of the Zendesk account's requests a minute afterhours may use;"
        " the rest is left to the agents' tools",
    )
    lease_seconds: float = Field(
        30.0, gt=0,
        description="how long a replica's lease on the state lasts: the one active replica"
        " renews it every third of this; a standby takes over this long after renewals stop",
    )

    http_listen: str | None = Field(
        None, description="host:port for /healthz, /readyz and /metrics, e.g. 0.0.0.0:8080;"
        " unset: no HTTP server",
    )
    status_page: bool = Field(
        False, description="true: GET /status serves a read-only status page (who is on call,"
        " passes, pending escalations, latest actions, the policy in force), and /status.json"
        " the same as JSON; needs AFTERHOURS_HTTP_LISTEN",
    )

    # Push mode (afterhours.push): each secret turns its route on.
    zendesk_webhook_secret: SecretStr | None = Field(
        None, description="the Zendesk webhook's signing secret; set: POST /webhooks/zendesk"
        " takes signed deliveries (needs AFTERHOURS_HTTP_LISTEN)",
    )
    jira_webhook_secret: SecretStr | None = Field(
        None, description="the secret of the Jira admin webhook; set: POST /webhooks/jira"
        " takes signed issue events (needs AFTERHOURS_HTTP_LISTEN)",
    )
    pagerduty_webhook_secret: SecretStr | None = Field(
        None, description="the PagerDuty v3 webhook subscription's signing secret; set: POST"
        " /webhooks/pagerduty takes incident acknowledgements (needs AFTERHOURS_HTTP_LISTEN)",
    )
    slack_bot_token: SecretStr | None = Field(
        None, description="the Slack app's bot token (xoxb-...) for channels of type slack:"
        " chat.postMessage and conversations.history (scopes chat:write, channels:history,"
        " groups:history)",
    )
    slack_api_url: AnyHttpUrl = Field(
        AnyHttpUrl("https://slack.com/api"), description="Slack's Web API (for a proxy or"
        " the twins)",
    )
    slack_signing_secret: SecretStr | None = Field(
        None, description="the Slack app's signing secret; set: escalation messages carry"
        " Acknowledge and Take it buttons and POST /slack/interactions takes their clicks"
        " (needs AFTERHOURS_HTTP_LISTEN)",
    )
    webhook_window: float = Field(
        300.0, gt=0, description="seconds a Zendesk delivery's signed timestamp may be from"
        " now; outside it the delivery is refused as a replay",
    )
    webhook_max_bytes: int = Field(
        1_000_000, ge=1, description="bytes a pushed delivery may hold; larger: refused (413)",
    )
    webhook_queue: int = Field(
        1000, ge=1, description="pushed tickets (and Jira events) that may wait for the daemon;"
        " beyond, deliveries are answered 429",
    )

    @field_validator("http_listen")
    @classmethod
    def _listen_is_host_port(cls, value: str | None) -> str | None:
        if value is not None:
            parse_listen(value)  # a ValueError here names the expected form
        return value

    @model_validator(mode="after")
    def _status_page_needs_a_server(self) -> Self:
        if self.status_page and not self.http_listen:
            raise ValueError("AFTERHOURS_STATUS_PAGE=true, but AFTERHOURS_HTTP_LISTEN is not set:"
                             " the page is served there; set it, e.g. 0.0.0.0:8080")
        return self

    @model_validator(mode="after")
    def _push_needs_a_server(self) -> Self:
        pushed = [f"AFTERHOURS_{n.upper()}" for n in ("zendesk_webhook_secret",
                                                      "jira_webhook_secret",
                                                      "pagerduty_webhook_secret",
                                                      "slack_signing_secret")
                  if getattr(self, n) is not None]
        if pushed and not self.http_listen:
            raise ValueError(f"{' and '.join(pushed)} set, but AFTERHOURS_HTTP_LISTEN is not:"
                             " webhooks arrive on that server; set it, e.g. 0.0.0.0:8080")
        return self
