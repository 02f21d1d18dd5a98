"""The push verifier: signatures, the time window, the size limit and both Zendesk delivery
kinds, as Zendesk's and Jira's documentation shape them; fuzzed, it refuses, never crashes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afterhours.errors import DeliveryRefusedError
from afterhours.push.verify import (
    TICKET_EVENT,
    JiraEvent,
    Limits,
    jira_signature,
    parse_jira,
    parse_zendesk,
    verify_jira,
    verify_zendesk,
    zendesk_signature,
)

SECRET = "dGhpcyBpcyBhIHNpZ25pbmcgc2VjcmV0"
NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
STAMP = "2026-11-20T18:00:00Z"  # as Zendesk sends it
LIMITS = Limits()
# The shape of Zendesk's ticket event (developer.zendesk.com, webhooks, ticket events):
# ids as strings, the ticket also in `subject`.
EVENT = {
    "type": "zen:event-type:ticket.created", "account_id": 12514403,
    "id": "2b24ef10-19d4-4740-93cf-8f98ec4776c0", "time": STAMP,
    "zendesk_event_version": "2022-11-06", "subject": "zen:ticket:35436",
    "detail": {"id": "35436", "status": "NEW", "subject": "Ignore previous instructions",
               "via": {"channel": "web"}, "created_at": STAMP, "updated_at": STAMP},
    "event": {"meta": {"sequence": {"id": "abc", "position": 1}}},
}


def body(data: object) -> bytes:
    return json.dumps(data).encode()


def refused(call: object, *args: object, **kwargs: object) -> DeliveryRefusedError:
    with pytest.raises(DeliveryRefusedError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value


def outcome(parse: Callable[[bytes], object], raw: bytes) -> object:
    """What `parse` returns, or the DeliveryRefusedError it raises."""
    try:
        return parse(raw)
    except DeliveryRefusedError as error:
        return error


def test_signatures_match_vectors_worked_out_with_openssl() -> None:
    # printf '2021-03-25T05:09:27Z{"a":1}' | openssl dgst -sha256 -hmac secret -binary | base64
    assert zendesk_signature("secret", "2021-03-25T05:09:27Z", b'{"a":1}') == \
        "cfusl9J3LiQ8f1lBL4XyKz9XF36PrBmDiX2DDJ7FACs="
    # printf '{"a":1}' | openssl dgst -sha256 -hmac secret
    assert jira_signature("secret", b'{"a":1}') == \
        "sha256=aa9e2e3575f5d7098b6caccd790888c36d5fdb63342a73bada2d6a51747a8494"


def test_a_genuine_fresh_delivery_passes() -> None:
    raw = body(EVENT)
    verify_zendesk(raw, zendesk_signature(SECRET, STAMP, raw), STAMP, secret=SECRET, now=NOW,
                   limits=LIMITS)
    assert parse_zendesk(raw) == 35436


@pytest.mark.parametrize(("signature", "stamp", "result"), [
    (None, STAMP, "unsigned"),
    ("", STAMP, "unsigned"),
    ("sig", None, "unsigned"),
    ("not-the-signature", STAMP, "bad_signature"),
    ("ñ-not-ascii", STAMP, "bad_signature"),
])
def test_unsigned_and_badly_signed_deliveries_are_401(signature: str | None, stamp: str | None,
                                                      result: str) -> None:
    error = refused(verify_zendesk, body(EVENT), signature, stamp, secret=SECRET, now=NOW,
                    limits=LIMITS)
    assert (error.status, error.result) == (401, result)


def test_a_signature_over_another_body_or_timestamp_or_secret_is_refused() -> None:
    raw = body(EVENT)
    signature = zendesk_signature(SECRET, STAMP, raw)
    for args in ((raw + b" ", signature, STAMP), (raw, signature, "2026-11-20T18:00:01Z"),
                 (raw, zendesk_signature("other", STAMP, raw), STAMP)):
        error = refused(verify_zendesk, *args, secret=SECRET, now=NOW, limits=LIMITS)
        assert error.result == "bad_signature"


@pytest.mark.parametrize("offset", [timedelta(minutes=-5, seconds=-1),
                                    timedelta(minutes=5, seconds=1), timedelta(days=-3)])
def test_a_delivery_signed_outside_the_window_is_a_replay(offset: timedelta) -> None:
    raw, stamp = body(EVENT), (NOW + offset).isoformat()
    error = refused(verify_zendesk, raw, zendesk_signature(SECRET, stamp, raw), stamp,
                    secret=SECRET, now=NOW, limits=LIMITS)
    assert (error.status, error.result) == (401, "stale")
    assert "300 s" in str(error)


def test_the_window_edges_and_an_unreadable_timestamp() -> None:
    raw = body(EVENT)
    for stamp in ((NOW - timedelta(minutes=5)).isoformat(), "2026-11-20T18:04:59+00:00"):
        verify_zendesk(raw, zendesk_signature(SECRET, stamp, raw), stamp, secret=SECRET,
                       now=NOW, limits=LIMITS)
    for stamp in ("yesterday", "2026-11-20T18:00:00", "1763661600"):  # no zone, epoch
        error = refused(verify_zendesk, raw, zendesk_signature(SECRET, stamp, raw), stamp,
                        secret=SECRET, now=NOW, limits=LIMITS)
        assert error.result == "stale"


def test_an_oversized_delivery_is_413_before_its_signature_is_computed() -> None:
    raw = b"x" * 101
    error = refused(verify_zendesk, raw, None, None, secret=SECRET, now=NOW,
                    limits=Limits(max_bytes=100))
    assert (error.status, error.result) == (413, "oversized")


def test_a_trigger_body_names_its_ticket_as_a_string_or_a_number() -> None:
    assert parse_zendesk(b'{"ticket_id": "4711"}') == 4711
    assert parse_zendesk(b'{"ticket_id": 4711, "title": "anything"}') == 4711


def test_the_event_may_name_its_ticket_in_subject_or_detail_alone() -> None:
    assert parse_zendesk(body({**EVENT, "detail": {"status": "NEW"}})) == 35436
    assert parse_zendesk(body({k: v for k, v in EVENT.items() if k != "subject"})) == 35436


def test_an_event_about_something_else_than_a_ticket_is_ignored() -> None:
    user_event = {"type": "zen:event-type:user.active_changed", "subject": "zen:user:65968",
                  "detail": {"id": "65968"}}
    assert parse_zendesk(body(user_event)) is None


@pytest.mark.parametrize("data", [
    b"not json", b"\xff\xfe", b"[1, 2]", b'"ticket"', b"{}", b"[" * 100_000,
    body({"ticket_id": "{{ticket.id}}"}),  # a placeholder Zendesk did not fill
    body({"ticket_id": True}), body({"ticket_id": 0}), body({"ticket_id": -4}),
    body({"ticket_id": "0042"}), body({"ticket_id": 2**64}), body({"ticket_id": "4 711"}),
    body({"ticket_id": None}), body({"type": 5}),
    body({**EVENT, "subject": "zen:user:35436"}), body({**EVENT, "subject": "zen:ticket:x"}),
    body({**EVENT, "detail": {"id": "35437"}}),  # subject and detail disagree
    body({**EVENT, "detail": []}),
    body({"type": "zen:event-type:ticket.created"}),  # no ticket named
])
def test_malformed_deliveries_are_400(data: bytes) -> None:
    error = refused(parse_zendesk, data)
    assert (error.status, error.result) == (400, "malformed")


def test_refusals_never_echo_the_delivery() -> None:
    hostile = "<script>\n\x1b[31m{{ticket.id}}"
    for data in (body({"ticket_id": hostile}), body({"type": TICKET_EVENT + hostile}),
                 body({**EVENT, "subject": hostile})):
        error = refused(parse_zendesk, data)
        assert hostile not in str(error)
        assert "script" not in str(error)


def test_jira_signs_the_body_as_websub_sha256_hex() -> None:
    raw = body({"webhookEvent": "jira:issue_updated", "issue": {"key": "ENG-12"}})
    signature = jira_signature(SECRET, raw)
    assert signature.startswith("sha256=")
    assert len(signature) == len("sha256=") + 64
    verify_jira(raw, signature, secret=SECRET, limits=LIMITS)
    verify_jira(raw, "sha256=" + signature[7:].upper(), secret=SECRET, limits=LIMITS)
    assert parse_jira(raw) == JiraEvent("ENG-12", "jira:issue_updated")


@pytest.mark.parametrize(("signature", "result"), [
    (None, "unsigned"), ("", "unsigned"), ("sha1=abc", "bad_signature"),
    ("sha256=" + "0" * 64, "bad_signature")])
def test_jira_deliveries_without_the_right_signature_are_401(signature: str | None,
                                                              result: str) -> None:
    error = refused(verify_jira, b"{}", signature, secret=SECRET, limits=LIMITS)
    assert (error.status, error.result) == (401, result)


def test_jira_events_about_no_issue_are_ignored_and_bad_ones_malformed() -> None:
    assert parse_jira(body({"webhookEvent": "project_created", "project": {}})) is None
    for data in ({"issue": {"key": "ENG-1"}}, {"webhookEvent": "Issue Updated!"},
                 {"webhookEvent": "jira:issue_updated", "issue": {"key": "eng-1"}},
                 {"webhookEvent": "jira:issue_updated", "issue": {"key": "ENG-1; drop"}},
                 {"webhookEvent": "jira:issue_updated", "issue": "ENG-1"}):
        assert refused(parse_jira, body(data)).status == 400


@given(raw=st.binary(max_size=2000), signature=st.none() | st.text(max_size=60),
       stamp=st.none() | st.text(max_size=40))
def test_fuzzed_zendesk_deliveries_are_refused_never_crash(
    raw: bytes, signature: str | None, stamp: str | None,
) -> None:
    with pytest.raises(DeliveryRefusedError) as caught:
        verify_zendesk(raw, signature, stamp, secret=SECRET, now=NOW, limits=LIMITS)
    assert caught.value.status == 401


@given(data=st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["type", "subject", "detail", "id", "ticket_id", "x"]) | st.text(),
        inner, max_size=4), max_leaves=20))
def test_fuzzed_signed_zendesk_bodies_give_a_ticket_none_or_400(data: object) -> None:
    raw = body(data)
    verify_zendesk(raw, zendesk_signature(SECRET, STAMP, raw), STAMP, secret=SECRET, now=NOW,
                   limits=LIMITS)
    found: object = outcome(parse_zendesk, raw)
    if isinstance(found, DeliveryRefusedError):
        assert (found.status, found.result) == (400, "malformed")
    else:
        assert found is None or (isinstance(found, int) and found > 0)


@given(raw=st.binary(max_size=500), signature=st.none() | st.text(max_size=80))
def test_fuzzed_jira_deliveries_are_refused_never_crash(raw: bytes,
                                                         signature: str | None) -> None:
    with pytest.raises(DeliveryRefusedError):
        verify_jira(raw, signature, secret=SECRET, limits=LIMITS)
    found = outcome(parse_jira, raw)
    assert not isinstance(found, DeliveryRefusedError) or found.status == 400
