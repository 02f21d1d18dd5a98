"""Settings from the environment (12-factor), each variable prefixed AFTERHOURS_; read here only."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
