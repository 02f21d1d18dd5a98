"""Settings from the environment (12-factor), each variable prefixed AFTERHOURS_; read here only."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def parse_listen(listen: str) -> tuple[str, int]:
    """`host:port` (`[::]:8080` for IPv6) as a pair; ValueError naming what is wrong."""
    host, sep, port = listen.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected host:port, e.g. 0.0.0.0:8080, not {listen!r}")
    return host, int(port)


class LocalSettings(BaseSettings):
    """What the offline commands (check, audit) need: local files only, no credentials."""

    model_config = SettingsConfigDict(env_prefix="AFTERHOURS_", extra="ignore")

    policy_file: Path = Field(Path("config/policy.yaml"), description="the routing policy")
    state_db: Path = Field(Path("afterhours.sqlite3"), description="SQLite file for state")
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="auto: console on a TTY, JSON otherwise"
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"


class Settings(LocalSettings):
    """Everything the daemon needs to know about its surroundings."""

    zendesk_url: AnyHttpUrl = Field(description="Zendesk base URL, e.g. https://acme.zendesk.com")
    zendesk_email: str = Field(description="the agent the daemon acts as")
    zendesk_token: SecretStr = Field(description="that agent's API token")
    jira_url: AnyHttpUrl = Field(description="Jira base URL, e.g. https://acme.atlassian.net")
    jira_email: str = Field(description="the Jira account the daemon acts as")
    jira_token: SecretStr = Field(description="that account's API token")
    webhooks: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='chat webhook URL per policy channel, as JSON: {"finance": "https://..."}',
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
    http_listen: str | None = Field(
        None, description="host:port for /healthz, /readyz and /metrics, e.g. 0.0.0.0:8080;"
        " unset: no HTTP server",
    )

    @field_validator("http_listen")
    @classmethod
    def _listen_is_host_port(cls, value: str | None) -> str | None:
        if value is not None:
            parse_listen(value)  # a ValueError here names the expected form
        return value
