"""A webhook's answer read for what it means, on the chat twin over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from typing import Any

import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from afterhours.adapters.notify import WebhookNotifier
from afterhours.errors import AccessError, PermanentError, TransientError
from afterhours.retrying import RetryPolicy
from afterhours.twins.chat import ChatTwin

pytestmark = pytest.mark.integration
KEY = "ticket:7/route:billing/notify"


@pytest.fixture
def hook(chat: ChatTwin) -> Iterator[WebhookNotifier]:
    with closing(WebhookNotifier({"finance": SecretStr(chat.webhook_url("finance"))},
                                 retry=RetryPolicy.disabled())) as notifier:
        yield notifier


@pytest.mark.parametrize(
    ("status", "body"),
    [(409, "conflict"), (422, "idempotency_key_reused"),
     (422, {"error": "Idempotency-Key already used for another request"})],
    ids=["409", "422-key-reused", "422-json"],
)
def test_an_answer_about_the_idempotency_key_counts_as_delivered(
    chat: ChatTwin, hook: WebhookNotifier, status: int, body: Any
) -> None:
    chat.answer_with("finance", status, body)
    with capture_logs() as logs:
        hook.notify("finance", "hello", key=KEY)
    [taken] = [e for e in logs if e["event"] == "chat.already_delivered"]
    assert (taken["channel"], taken["status"]) == ("finance", status)


def test_a_reposted_key_with_new_text_is_delivered_once(
    chat: ChatTwin, hook: WebhookNotifier
) -> None:
    hook.notify("finance", "ticket #7 (not yet moved to Finance)", key=KEY)
    hook.notify("finance", "ticket #7 → Finance", key=KEY)  # the twin answers 422
    assert chat.messages("finance") == ["ticket #7 (not yet moved to Finance)"]


def test_a_422_for_any_other_reason_fails_with_that_reason(
    chat: ChatTwin, hook: WebhookNotifier
) -> None:
    chat.answer_with("finance", 422, "invalid_blocks")
    with pytest.raises(PermanentError) as raised:
        hook.notify("finance", "hello", key=KEY)
    assert str(raised.value) == "chat: finance: HTTP 422: invalid_blocks"
    assert raised.value.status == 422


def test_without_an_idempotency_key_a_409_is_no_delivery(
    chat: ChatTwin, hook: WebhookNotifier
) -> None:
    chat.answer_with("finance", 409, "idempotency_key_reused")
    with pytest.raises(PermanentError):
        hook.notify("finance", "hello")


def test_a_400_carries_the_body_cut_short_without_control_characters_or_the_url(
    chat: ChatTwin, hook: WebhookNotifier
) -> None:
    url = chat.webhook_url("finance")
    chat.answer_with("finance", 400, f"bad\x1b[31m payload\n\tfor {url} " + "x" * 500)
    with pytest.raises(PermanentError) as raised:
        hook.notify("finance", "hello", key=KEY)
    said = str(raised.value)
    assert said.startswith("chat: finance: HTTP 400: bad [31m payload for <webhook> xxx")
    assert "\x1b" not in said
    assert "\n" not in said
    assert "/hooks/" not in said
    assert chat.server.base_url not in said
    assert len(said) < 260


def test_a_503_is_transient_and_retry_after_is_kept(
    chat: ChatTwin, hook: WebhookNotifier
) -> None:
    chat.answer_with("finance", 503, "service_unavailable", {"Retry-After": "30"})
    with pytest.raises(TransientError) as raised:
        hook.notify("finance", "hello", key=KEY)
    assert (raised.value.status, raised.value.retry_after) == (503, 30)
    assert chat.messages() == []


def test_a_refused_token_waits_for_an_operator(chat: ChatTwin, hook: WebhookNotifier) -> None:
    chat.answer_with("finance", 403, "invalid_token")
    with pytest.raises(AccessError, match="HTTP 403: invalid_token"):
        hook.notify("finance", "hello", key=KEY)
    chat.clear_answer("finance")
    hook.notify("finance", "hello", key=KEY)
    assert chat.messages("finance") == ["hello"]
