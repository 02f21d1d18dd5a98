"""Secrets: read from the environment or from files (*_FILE), typed SecretStr, and redacted
from log lines (afterhours' and the libraries'), exception messages and the audit trail; the
libraries' loggers stay at WARNING unless asked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from pydantic import SecretStr
from pydantic_settings import SettingsError

from afterhours import redact
from afterhours.cli import main
from afterhours.errors import PermanentError, ServiceError
from afterhours.logs import configure_logging
from afterhours.settings import Settings, register_environment_secrets

TOKEN = "zd-token-4f9c1e27b8"
HOOK = "https://hooks.slack.com/services/T0/B0/hook-secret-93be"
REQUIRED = {"AFTERHOURS_ZENDESK_URL": "https://acme.zendesk.com",
            "AFTERHOURS_ZENDESK_EMAIL": "bot@acme.example",
            "AFTERHOURS_JIRA_URL": "https://acme.atlassian.net",
            "AFTERHOURS_JIRA_EMAIL": "bot@acme.example"}


@pytest.fixture(autouse=True)
def _no_secrets_known() -> Iterator[None]:
    redact.forget_all()
    yield
    redact.forget_all()


@pytest.fixture
def secret_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every secret as a mounted file (with the newline such files end in), the rest as
    plain variables."""
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    files = {"ZENDESK_TOKEN": f"{TOKEN}\n", "JIRA_TOKEN": "jira-token-77a1c0de\n",
             "WEBHOOKS": json.dumps({"finance": HOOK}) + "\n",
             "STATE_URL": "postgresql://afterhours:pg-pass-5e1d@db:5432/afterhours\n"}
    for name, content in files.items():
        path = tmp_path / name.lower()
        path.write_text(content)
        monkeypatch.setenv(f"AFTERHOURS_{name}_FILE", str(path))
    return tmp_path


def test_secrets_are_read_from_the_files_the_file_variables_name(secret_files: Path) -> None:
    settings = Settings()
    assert isinstance(settings.zendesk_token, SecretStr)
    assert settings.zendesk_token.get_secret_value() == TOKEN  # the newline is not the token
    assert settings.jira_token.get_secret_value() == "jira-token-77a1c0de"
    assert settings.webhooks["finance"].get_secret_value() == HOOK
    assert settings.state_url.get_secret_value().startswith("postgresql://afterhours:")
    assert TOKEN not in repr(settings)


def test_a_secret_and_its_file_both_set_is_refused_naming_both(
    secret_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AFTERHOURS_ZENDESK_TOKEN", "another")
    with pytest.raises(SettingsError, match="AFTERHOURS_ZENDESK_TOKEN_FILE and "
                                            "AFTERHOURS_ZENDESK_TOKEN are both set"):
        Settings()


@pytest.mark.parametrize(("content", "said"), [
    (None, "cannot read"),
    (b"\xff\xfe{not utf-8", "not UTF-8 text"),
    (b'{"finance": "https://hooks.slack.com/services/oops-secret', "does not hold a JSON object"),
])
def test_an_unusable_file_is_named_with_its_path_never_its_content(
    secret_files: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    content: bytes | None, said: str,
) -> None:
    path = secret_files / "broken"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setenv("AFTERHOURS_WEBHOOKS_FILE", str(path))
    assert main(["run", "--once"]) == 2
    err = capsys.readouterr().err
    assert "AFTERHOURS_WEBHOOKS_FILE: " in err
    assert str(path) in err
    assert said in err
    assert "oops-secret" not in err


def test_a_blank_file_variable_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AFTERHOURS_ZENDESK_TOKEN", TOKEN)
    monkeypatch.setenv("AFTERHOURS_JIRA_TOKEN", "jira-token-77a1c0de")
    monkeypatch.setenv("AFTERHOURS_ZENDESK_TOKEN_FILE", " ")
    assert Settings().zendesk_token.get_secret_value() == TOKEN


def test_exception_messages_never_hold_a_known_secret(secret_files: Path) -> None:
    Settings()
    error = PermanentError("chat", f"POST {HOOK} failed; token {TOKEN}")
    assert HOOK not in str(error)
    assert TOKEN not in str(error)
    assert "/services/T0/B0/hook-secret-93be" not in str(error)  # the path alone is secret too
    assert str(error) == "chat: POST ********** failed; token **********"
    assert isinstance(error, ServiceError)


def test_log_lines_of_afterhours_and_of_the_libraries_are_redacted(secret_files: Path) -> None:
    Settings()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger().addHandler(handler)
    printed = io.StringIO()
    try:
        configure_logging("json", "debug", "debug")
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(printed))
        structlog.get_logger().error("chat.delivery_failed", url=HOOK, error=f"bad {TOKEN}")
        logging.getLogger("httpx").debug("HTTP Request: POST %s", HOOK)
        logging.getLogger("urllib3").warning("Retrying %s", HOOK.replace("https://", "http://"))
        basic = "Basic " + __import__("base64").b64encode(
            f"bot@acme.example/token:{TOKEN}".encode()).decode()
        logging.getLogger().debug("send: Authorization: %s", basic)  # zenpy logs on the root
        try:
            raise RuntimeError(f"boom {TOKEN}")
        except RuntimeError:
            logging.getLogger("jira").exception("failed")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = printed.getvalue() + stream.getvalue()
    assert "chat.delivery_failed" in lines
    assert "HTTP Request: POST" in lines
    for secret in (TOKEN, HOOK, "hook-secret-93be", basic.split()[1]):
        assert secret not in lines


def test_the_libraries_log_at_warning_unless_asked(secret_files: Path) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger().addHandler(handler)
    try:
        configure_logging("json", "debug")  # afterhours' own debug is not the libraries'
        logging.getLogger("jira").setLevel(logging.INFO)  # as every new jira client does
        for name in ("jira", "zenpy", "urllib3", "httpx", "uvicorn.error", ""):
            logging.getLogger(name).info("payload of %s: the customer's whole ticket", name)
        logging.getLogger("jira").warning("a warning gets through")
        quiet = stream.getvalue()
        configure_logging("json", "info", "debug")
        logging.getLogger("urllib3").debug("asked for")
    finally:
        logging.getLogger().removeHandler(handler)
    assert "customer's whole ticket" not in quiet
    assert "a warning gets through" in quiet
    assert "asked for" in stream.getvalue()


def test_the_environments_secrets_are_known_to_commands_that_need_none(
    secret_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = secret_files / "state_url"
    monkeypatch.setenv("AFTERHOURS_STATE_URL_FILE", str(secret_files / "missing"))  # unusable
    register_environment_secrets()  # what `afterhours audit` does first: never an error
    monkeypatch.setenv("AFTERHOURS_STATE_URL_FILE", str(good))
    register_environment_secrets()
    assert redact.redact(f"{TOKEN} {HOOK} pg-pass-5e1d") == "********** ********** **********"


def test_short_values_are_not_taken_for_secrets() -> None:
    redact.register(SecretStr("x"), "abc", None, "")
    assert redact.redact("x abc") == "x abc"
