"""Where settings come from besides the environment: the command line (--policy, --state,
--log-format) and the files AFTERHOURS_<NAME>_FILE names (as container secrets are mounted)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import PydanticBaseSettingsSource, SettingsError

# The secret settings, each of which may instead be read from a file that
# AFTERHOURS_<NAME>_FILE names (as container secrets are mounted).
SECRET_FILE_SETTINGS = ("zendesk_token", "jira_token", "webhooks", "state_url",
                        "zendesk_webhook_secret", "jira_webhook_secret",
                        "pagerduty_routing_keys", "pagerduty_webhook_secret", "smtp_url",
                        "smtp_password", "slack_signing_secret", "slack_bot_token")
# The secret settings whose value is a JSON object of channel names to secrets.
JSON_SECRET_SETTINGS = ("webhooks", "pagerduty_routing_keys")

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
