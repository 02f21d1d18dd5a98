"""Acknowledgements: PagerDuty's v3 webhook verified and parsed (pure, fuzzed), and the
planner stopping a ladder, noting who acknowledged and resolving the page."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afterhours.domain.actions import AddInternalNote, ResolvePage, TriggerPage
from afterhours.domain.model import Acknowledged, History
from afterhours.domain.planner import plan_actions
from afterhours.errors import DeliveryRefusedError
from afterhours.policy import parse_policy
from afterhours.push.acknowledgements import (
    AckEvent,
    pagerduty_signature,
    parse_pagerduty,
    verify_pagerduty,
)
from afterhours.push.verify import Limits
from factories import PAGERDUTY_HEAD, PAGING_LADDER, make_ticket

SECRET = "pd-secret"
NOW = datetime(2026, 11, 21, 3, 12, tzinfo=UTC)
LIMITS = Limits()
KEY = "ticket:9/escalation:p1/level:page/page"


def event(**changes: Any) -> dict[str, Any]:
    """A v3 webhook body: Dana acknowledged the incident afterhours opened for ticket 9."""
    body: dict[str, Any] = {"event": {
        "id": "01DEN5K8K8AUCJWP8FZJ1LRWYK", "event_type": "incident.acknowledged",
        "resource_type": "incident", "occurred_at": "2026-11-21T03:11:04.000Z",
        "agent": {"id": "PUSER01", "type": "user_reference", "summary": "Dana Lead"},
        "client": None,
        "data": {"id": "Q000001", "type": "incident", "incident_key": KEY, "status":
                 "acknowledged", "title": "Zendesk #9 (urgent): Production is down"}}}
    body["event"].update(changes)
    return body


def raw(data: object) -> bytes:
    return json.dumps(data).encode()


def test_the_signature_is_hex_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"event": {}}'
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert pagerduty_signature(SECRET, body) == f"v1={expected}"


def test_one_matching_signature_of_several_is_enough() -> None:
    body = raw(event())
    rotating = f"v1={'0' * 64},{pagerduty_signature(SECRET, body)}"
    verify_pagerduty(body, rotating, secret=SECRET, limits=LIMITS)


@pytest.mark.parametrize("signature", [None, "", "v1=", "v0=abc", f"v1={'a' * 64}"])
def test_unsigned_and_badly_signed_deliveries_are_401(signature: str | None) -> None:
    with pytest.raises(DeliveryRefusedError) as caught:
        verify_pagerduty(raw(event()), signature, secret=SECRET, limits=LIMITS)
    assert caught.value.status == 401


def test_an_oversized_delivery_is_413() -> None:
    with pytest.raises(DeliveryRefusedError) as caught:
        verify_pagerduty(b"x" * 11, "v1=x", secret=SECRET, limits=Limits(max_bytes=10))
    assert caught.value.status == 413


def test_an_acknowledgement_names_the_ticket_who_and_when() -> None:
    found = parse_pagerduty(raw(event()), now=NOW)
    assert found == AckEvent(9, Acknowledged("Dana Lead", "PagerDuty", datetime(
        2026, 11, 21, 3, 11, 4, tzinfo=UTC)), "01DEN5K8K8AUCJWP8FZJ1LRWYK", KEY)


@pytest.mark.parametrize("changes", [
    {"event_type": "incident.triggered"},
    {"agent": {"id": "PSERVICE", "type": "service_reference", "summary": "Support"}},
    {"agent": None},
])
def test_events_that_acknowledge_nothing_are_ignored(changes: dict[str, Any]) -> None:
    assert parse_pagerduty(raw(event(**changes)), now=NOW) is None


def test_another_tools_incident_is_ignored() -> None:
    body = event()
    body["event"]["data"]["incident_key"] = "nagios-host-down-web01"
    assert parse_pagerduty(raw(body), now=NOW) is None


def test_an_old_event_is_refused_as_a_replay() -> None:
    with pytest.raises(DeliveryRefusedError) as caught:
        parse_pagerduty(raw(event(occurred_at="2026-11-21T01:00:00Z")), now=NOW)
    assert (caught.value.status, caught.value.result) == (401, "stale")


def test_a_name_is_one_clean_short_line() -> None:
    found = parse_pagerduty(raw(event(agent={"type": "user_reference",
                                              "summary": "Eve\n\x1b[31m" + "x" * 500})),
                            now=NOW)
    assert found is not None
    assert "\n" not in found.ack.who
    assert "\x1b" not in found.ack.who
    assert len(found.ack.who) <= 100


@pytest.mark.parametrize("body", [b"[]", b"{}", raw({"event": []}), raw(event(id=None)),
                                  raw(event(occurred_at="yesterday")), b"\xff"])
def test_malformed_deliveries_are_400(body: bytes) -> None:
    with pytest.raises(DeliveryRefusedError) as caught:
        parse_pagerduty(body, now=NOW)
    assert caught.value.status == 400


@given(body=st.binary(max_size=1000), signature=st.none() | st.text(max_size=200))
def test_fuzzed_pagerduty_deliveries_are_refused_never_crash(body: bytes,
                                                              signature: str | None) -> None:
    with pytest.raises(DeliveryRefusedError) as caught:
        verify_pagerduty(body, signature, secret=SECRET, limits=LIMITS)
    assert caught.value.status == 401


@given(data=st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["event", "event_type", "data", "incident_key", "agent", "type", "id",
                         "occurred_at", "summary"]) | st.text(max_size=5),
        inner, max_size=5), max_leaves=25))
def test_fuzzed_signed_bodies_give_an_acknowledgement_none_or_a_refusal(data: object) -> None:
    body = raw(data)
    verify_pagerduty(body, pagerduty_signature(SECRET, body), secret=SECRET, limits=LIMITS)
    found: AckEvent | DeliveryRefusedError | None
    try:
        found = parse_pagerduty(body, now=NOW)
    except DeliveryRefusedError as refused:
        found = refused
    if isinstance(found, DeliveryRefusedError):
        assert found.status in (400, 401)
    else:
        assert found is None or (found.ticket_id > 0 and found.page.startswith("ticket:"))


PAGING = parse_policy(PAGERDUTY_HEAD + PAGING_LADDER + """\
      - id: lead
        after_minutes: 60
        until: first_reply
        notify: desk
""")
CREATED = datetime(2026, 1, 17, 2, tzinfo=UTC)
ACK = Acknowledged("Dana Lead", "PagerDuty", CREATED + timedelta(minutes=5))


def plan(minutes: float, settled: frozenset[str], ack: Acknowledged | None = ACK,
         policy: Any = PAGING) -> Any:
    ticket = make_ticket(id=9, priority="urgent", status="open", created_at=CREATED)
    return plan_actions(ticket, policy, CREATED + timedelta(minutes=minutes),
                        History(settled=settled, acknowledgement=ack))


def test_an_acknowledgement_stops_the_ladder_notes_it_and_resolves_the_page() -> None:
    result = plan(70, frozenset({KEY}))
    kinds = {p.key: p.action for p in result.actions}
    assert isinstance(kinds[KEY + "/resolve"], ResolvePage)
    note = kinds["ticket:9/acknowledgement/note"]
    assert isinstance(note, AddInternalNote)
    assert note.body.startswith("Acknowledged by Dana Lead in PagerDuty at 2026-01-17 02:05 UTC")
    assert not any(isinstance(a, TriggerPage) for a in kinds.values())
    assert [s.key for s in result.skips] == [
        "ticket:9/escalation:p1/level:page/repeat:2/acknowledged",
        "ticket:9/escalation:p1/level:lead/acknowledged"]
    assert all("acknowledged by Dana Lead in PagerDuty" in s.reason for s in result.skips)


def test_a_take_it_assigns_the_ticket_once() -> None:
    taken = Acknowledged("Dana Lead", "Slack", CREATED, assignee="dana@acme.example")
    result = plan(5, frozenset({KEY}), taken)
    assert "ticket:9/acknowledgement/assign_agent" in {p.key for p in result.actions}


def test_a_ladder_may_keep_going_whatever_the_responder_said() -> None:
    stubborn = parse_policy(PAGERDUTY_HEAD + PAGING_LADDER.replace(
        "acknowledged_by: {tags: [taken]}", "acknowledged_by: {responder: false}"))
    result = plan(31, frozenset({KEY}), policy=stubborn)
    assert any(isinstance(p.action, TriggerPage) for p in result.actions)  # repeat 1
