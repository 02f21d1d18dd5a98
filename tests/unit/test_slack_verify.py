"""Slack's interaction requests: the v0 signature over the timestamp and the raw body, the
five-minute window, the click on afterhours' buttons (pure, fuzzed)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afterhours.domain.chat import ACKNOWLEDGE, TAKE
from afterhours.errors import DeliveryRefusedError
from afterhours.push.acknowledgements import AckEvent
from afterhours.push.slack import parse_slack, slack_signature, verify_slack
from afterhours.push.verify import Limits

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = datetime(2026, 11, 21, 3, 12, tzinfo=UTC)
STAMP = str(int(NOW.timestamp()))
LIMITS = Limits()
KEY = "ticket:9/escalation:p1/level:page/notify"


def click(action_id: str = ACKNOWLEDGE, **changes: Any) -> bytes:
    interaction: dict[str, Any] = {
        "type": "block_actions", "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "user": {"id": "U0DANA001", "username": "dana.lead", "name": "dana.lead"},
        "response_url": "https://hooks.slack.com/actions/T0ACME/1/abc",
        "actions": [{"type": "button", "action_id": action_id, "value": KEY}]}
    interaction.update(changes)
    return urlencode({"payload": json.dumps(interaction)}).encode()


def test_the_signature_is_slacks_v0() -> None:
    body = b"payload=x"
    base = f"v0:{STAMP}:".encode() + body
    expected = "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()
    assert slack_signature(SECRET, STAMP, body) == expected
    verify_slack(body, expected, STAMP, secret=SECRET, now=NOW, limits=LIMITS)


@pytest.mark.parametrize(("signature", "stamp", "result"), [
    (None, STAMP, "unsigned"), ("v0=abc", None, "unsigned"), ("v0=abc", STAMP, "bad_signature"),
    ("sig", str(int(NOW.timestamp()) - 301), "stale"), ("sig", "yesterday", "stale")])
def test_refusals_are_401(signature: str | None, stamp: str | None, result: str) -> None:
    body = click()
    given = (slack_signature(SECRET, stamp, body) if signature == "sig" and stamp
             else signature)
    with pytest.raises(DeliveryRefusedError) as caught:
        verify_slack(body, given, stamp, secret=SECRET, now=NOW, limits=LIMITS)
    assert (caught.value.status, caught.value.result) == (401, result)


def test_a_click_names_the_ticket_who_and_where_to_answer() -> None:
    found = parse_slack(click(TAKE), now=NOW)
    assert isinstance(found, AckEvent)
    assert (found.ticket_id, found.page, found.take, found.slack_user) == (
        9, KEY, True, "U0DANA001")
    assert found.ack.who == "dana.lead"
    assert found.ack.source == "Slack"
    assert found.response_url == "https://hooks.slack.com/actions/T0ACME/1/abc"


def test_a_response_url_elsewhere_is_not_answered_on() -> None:
    found = parse_slack(click(response_url="https://evil.example/steal"), now=NOW)
    assert found is not None
    assert found.response_url is None


@pytest.mark.parametrize("body", [
    click(type="view_submission"), click("someone.elses.button"), click(actions=[])])
def test_other_interactions_are_ignored(body: bytes) -> None:
    assert parse_slack(body, now=NOW) is None


@pytest.mark.parametrize("body", [
    b"", b"payload=", b"\xff", b"payload=%5B%5D", b"a=1&b=2",
    click(user={"id": "bob"}), click(trigger_id=None),
    click(actions=[{"action_id": ACKNOWLEDGE, "value": "not-ours"}])])
def test_malformed_clicks_are_400(body: bytes) -> None:
    with pytest.raises(DeliveryRefusedError) as caught:
        parse_slack(body, now=NOW)
    assert caught.value.status == 400


@given(body=st.binary(max_size=1000), signature=st.none() | st.text(max_size=80),
       stamp=st.none() | st.text(max_size=20))
def test_fuzzed_requests_are_refused_never_crash(body: bytes, signature: str | None,
                                                 stamp: str | None) -> None:
    with pytest.raises(DeliveryRefusedError) as caught:
        verify_slack(body, signature, stamp, secret=SECRET, now=NOW, limits=LIMITS)
    assert caught.value.status == 401


@given(data=st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["type", "actions", "action_id", "value", "user", "id", "name",
                         "trigger_id", "response_url"]) | st.text(max_size=5),
        inner, max_size=5), max_leaves=25))
def test_fuzzed_signed_payloads_give_a_click_none_or_400(data: object) -> None:
    body = urlencode({"payload": json.dumps(data)}).encode()
    verify_slack(body, slack_signature(SECRET, STAMP, body), STAMP, secret=SECRET, now=NOW,
                 limits=LIMITS)
    found: AckEvent | DeliveryRefusedError | None
    try:
        found = parse_slack(body, now=NOW)
    except DeliveryRefusedError as refused:
        found = refused
    if isinstance(found, DeliveryRefusedError):
        assert found.status == 400
    else:
        assert found is None or found.page.startswith("ticket:")
