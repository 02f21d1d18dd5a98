"""Settings as a person reads them: each variable's value (secrets masked) and where it came
from, and each problem named by its variable, with what is wrong and an example.

`afterhours config` prints the first, `afterhours config --check` and every command that
reads settings (the daemon at start among them) the second: one wording for both.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsError

from afterhours.redact import REDACTED
from afterhours.settings import (
    SECRET_FILE_SETTINGS,
    Settings,
    command_line_values,
    file_variable,
)

# One example per setting, shown with its problem; a setting not listed shows its description.
EXAMPLES = {
    "zendesk_url": "https://acme.zendesk.com",
    "zendesk_email": "bot@acme.com",
    "zendesk_token": "<the agent's API token>",
    "jira_url": "https://acme.atlassian.net",
    "jira_email": "bot@acme.com",
    "jira_token": "<the account's API token>",
    "webhooks": '\'{"finance": "https://hooks.slack.com/services/T000/B000/XXXX"}\'',
    "policy_file": "config/policy.yaml",
    "state_db": "/var/lib/afterhours/afterhours.sqlite3",
    "state_url": "postgresql://afterhours:password@db:5432/afterhours",
    "log_format": "json",
    "log_level": "info",
    "library_log_level": "warning",
    "http_listen": "0.0.0.0:8080",
    "poll_interval": "60",
    "backfill_hours": "24",
    "http_timeout": "30",
    "jira_search_lag": "180",
    "lease_seconds": "30",
}
# The options that set a field from the command line, for the "source" column.
OPTIONS = {"policy_file": "--policy", "state_url": "--state", "log_format": "--log-format"}
_PARSING = re.compile(r'error parsing value for field "(\w+)"')


def variable(name: str) -> str:
    """The environment variable of a settings field."""
    return f"AFTERHOURS_{name.upper()}"


@dataclass(frozen=True)
class SettingView:
    """One setting as `afterhours config` shows it."""

    variable: str
    value: str
    source: str
    secret: bool

    def as_json(self) -> dict[str, Any]:
        """The row as JSON-ready data."""
        return {"variable": self.variable, "value": self.value, "source": self.source,
                "secret": self.secret}


def _environment() -> dict[str, str]:
    # pydantic-settings reads names in any case; so does this report.
    return {name.upper(): value for name, value in os.environ.items()}


def source_of(name: str, environ: dict[str, str] | None = None) -> str:
    """Where a setting's value comes from: command line, environment, file or default."""
    environ = _environment() if environ is None else environ
    if name in command_line_values():
        return f"command line ({OPTIONS.get(name, name)})"
    if environ.get(variable(name)):
        return "environment"
    if name in SECRET_FILE_SETTINGS and environ.get(file_variable(name), "").strip():
        return f"file ({file_variable(name)}={environ[file_variable(name)].strip()})"
    if name == "state_url":
        return "default (sqlite:/// + AFTERHOURS_STATE_DB)"
    return "default"


def masked(name: str, value: Any) -> str:
    """A setting's value as shown: secrets masked (a URL keeps its scheme and host)."""
    if isinstance(value, dict):
        return ", ".join(f"{key}: {masked(name, item)}" for key, item in value.items()) or "{}"
    if isinstance(value, SecretStr):
        text = value.get_secret_value()
        if not text:
            return ""
        if name == "state_url":
            return _without_password(text)
        parts = urlsplit(text)
        if parts.scheme and parts.hostname:
            return f"{parts.scheme}://{parts.hostname}/{REDACTED}"
        return REDACTED
    return "" if value is None else str(value)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", f":{REDACTED}@", 1)
    return parts._replace(netloc=netloc).geturl()


def settings_report(cls: type[BaseSettings] = Settings) -> tuple[list[SettingView], list[str]]:
    """Every setting of `cls` with its value and source, and the problems found reading them."""
    environ = _environment()
    problems: list[str] = []
    read: BaseModel | None = None
    bad: set[str] = set()
    try:
        read = cls()
    except ValidationError as error:
        problems = settings_problems(error)
        bad = {str(item["loc"][0]) for item in error.errors()
               if item["loc"] and item["type"] != "missing"}
    except SettingsError as error:
        problems = [settings_error_message(error)]
    rows = []
    for name, field in cls.model_fields.items():
        secret = name in SECRET_FILE_SETTINGS or field.annotation is SecretStr
        if read is not None:
            value = masked(name, getattr(read, name))
        elif name in bad:
            value = "(wrong: see below)"
        elif environ.get(variable(name)):
            value = REDACTED if secret else environ[variable(name)]
        elif field.is_required():
            value = "(not set: required)"
        elif name == "state_url":
            state_db = cls.model_fields["state_db"].default
            value = f"sqlite:///{environ.get(variable('state_db')) or state_db}"
        else:
            value = masked(name, field.get_default(call_default_factory=True))
        rows.append(SettingView(variable(name), value, source_of(name, environ), secret))
    return rows, problems


def settings_problems(error: ValidationError) -> list[str]:
    """One line per problem: the variable, what is wrong, and an example of a good value."""
    environ = _environment()
    lines = []
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        message = str(item["msg"]).removeprefix("Value error, ")
        if not loc:  # a check across settings: its message names the variables itself
            lines.append(message)
            continue
        name = loc[0]
        where = variable(name)
        if name in SECRET_FILE_SETTINGS and environ.get(file_variable(name), "").strip():
            where = f"{where} (read from {file_variable(name)})"
        if len(loc) > 1:
            where += f", channel {loc[1]!r}" if name == "webhooks" else f" [{'.'.join(loc[1:])}]"
        if item["type"] == "missing":
            message = "is set but empty" if variable(name) in environ else "is not set"
            message += "; it is required"
        example = EXAMPLES.get(name)
        hint = f"; e.g. {variable(name)}={example}" if example and "e.g." not in message else ""
        lines.append(f"{where}: {message}{hint}")
    return lines


def settings_error_message(error: SettingsError) -> str:
    """A settings source's error, naming the variable (ours already do; pydantic-settings'
    own name the field, and the cause is in `__cause__`)."""
    text = str(error)
    found = _PARSING.search(text)
    if found is None:
        return text
    cause = f": {error.__cause__}" if error.__cause__ else ""
    return f"{variable(found.group(1))}: cannot be read{cause}"
