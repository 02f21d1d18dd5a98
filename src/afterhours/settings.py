"""Settings from the environment (12-factor), each variable prefixed AFTERHOURS_; read here only."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import AnyHttpUrl, Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The schemes adapters/sql.py's open_database accepts.
STATE_URL_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")


def parse_listen(listen: str) -> tuple[str, int]:
    """`host:port` (`[::]:8080` for IPv6) as a pair; ValueError naming what is wrong."""
    host, sep, port = listen.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected host:port, e.g. 0.0.0.0:8080, not {listen!r}")
    return host, int(port)


class LocalSettings(BaseSettings):
    """What the offline commands (check, audit) need: local files only, no credentials."""

    # hide_input_in_errors: a mistyped setting's message must not print its value (a token,
    # a webhook URL, a database password).
    model_config = SettingsConfigDict(
        env_prefix="AFTERHOURS_", extra="ignore", hide_input_in_errors=True
    )

    policy_file: Path = Field(Path("config/policy.yaml"), description="the routing policy")
    state_db: Path = Field(Path("afterhours.sqlite3"), description="SQLite file for state")
    state_url: SecretStr = Field(
        SecretStr(""),
        description="sqlite:///path (default: sqlite:/// and AFTERHOURS_STATE_DB) or"
        " postgresql://user:password@host:port/database; secret, for its password",
    )
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="auto: console on a TTY, JSON otherwise"
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("state_url")
    @classmethod
    def _known_scheme(cls, url: SecretStr) -> SecretStr:
        text = url.get_secret_value()
        if text and not text.startswith(STATE_URL_SCHEMES):
            # Only the scheme: the rest may hold a password.
            raise ValueError(
                f"unknown scheme {text.split(':', 1)[0]!r}: AFTERHOURS_STATE_URL takes"
                " sqlite:///relative/path, sqlite:////absolute/path or"
                " postgresql://user:password@host:port/database"
            )
        return url

    _state_url_given: bool = PrivateAttr(default=True)

    @model_validator(mode="after")
    def _state_url_from_state_db(self) -> Self:
        if not self.state_url.get_secret_value():
            self.state_url = SecretStr(f"sqlite:///{self.state_db}")
            self._state_url_given = False
        return self

    @property
    def state_setting(self) -> str:
        """The setting that chose the state store, for its messages: AFTERHOURS_STATE_URL
        when it is set, else AFTERHOURS_STATE_DB (the SQLite file it names)."""
        return "AFTERHOURS_STATE_URL" if self._state_url_given else "AFTERHOURS_STATE_DB"


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
    lease_seconds: float = Field(
        30.0, gt=0,
        description="how long a replica's lease on the state lasts: the one active replica"
        " renews it every third of this; a standby takes over this long after renewals stop",
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
