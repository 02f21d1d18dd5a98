"""Fault injection in the twins, observed over real HTTP, and the chat twin's Idempotency-Key."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import httpx
import pytest
import requests

from afterhours.adapters.zendesk import ZenpyTicketDesk
from afterhours.domain.actions import AddTags
from afterhours.errors import TransientError
from afterhours.retrying import RetryPolicy
from afterhours.twins.chat import ChatTwin
from afterhours.twins.faults import FaultRule, Faults
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from factories import make_ticket

pytestmark = pytest.mark.integration

TICKET_PUT = "PUT /api/v2/tickets/{id}.json"
# Credentials as the real clients send them: the contract checks want them on every request.
ZENDESK_AUTH = ("bot@example.com/token", "token")
JIRA_AUTH = ("bot@example.com", "token")


@pytest.fixture
def ticket_id(zendesk: ZendeskTwin) -> int:
    requester = zendesk.add_user("Alice", "alice@globex.com")["id"]
    return int(zendesk.create_ticket(subject="Refund", description="d",
                                     requester_id=requester)["id"])


def put_tags(zendesk: ZendeskTwin, ticket_id: int, *tags: str) -> requests.Response:
    """Add tags with a plain requests call: a fresh connection each time."""
    return requests.put(f"{zendesk.base_url}/api/v2/tickets/{ticket_id}.json",
                        json={"ticket": {"additional_tags": list(tags)}}, auth=ZENDESK_AUTH,
                        timeout=5)


# -- rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "endpoint", "matches"),
    [
        ("*", "GET /api/v2/users/me.json", True),
        ("POST *", "POST /rest/api/2/issue", True),
        ("POST *", "PUT /api/v2/tickets/{id}.json", False),
        ("* /rest/api/2/issue", "POST /rest/api/2/issue", True),
        ("* /rest/api/2/issue", "GET /rest/api/2/issue/{key}", False),
        ("PUT /api/v2/tickets/*", TICKET_PUT, True),
        (TICKET_PUT, TICKET_PUT, True),
        ("put *", TICKET_PUT, False),  # methods are upper case, as the labels spell them
    ],
)
def test_rules_match_endpoint_labels_with_wildcards(
    pattern: str, endpoint: str, matches: bool
) -> None:
    assert FaultRule(pattern).matches(endpoint) is matches


@pytest.mark.parametrize(
    "rule",
    [
        {"error_rate": 1.5},
        {"reset_rate": -0.1},
        {"reset_rate": 0.6, "error_rate": 0.6},
        {"error_status": 200},
        {"latency": (0.2, 0.1)},
        {"storm_length": -1},
    ],
)
def test_impossible_rules_are_refused(rule: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"."):
        FaultRule(**rule)  # type: ignore[arg-type]


# -- each kind of fault over HTTP -------------------------------------------------------------


def test_faults_are_off_until_a_rule_is_added(zendesk: ZendeskTwin, ticket_id: int) -> None:
    assert all(put_tags(zendesk, ticket_id, f"t{n}").status_code == 200 for n in range(5))
    assert zendesk.server.faults.counts == {}


def test_an_injected_error_skips_the_handler_and_is_shaped_like_the_vendors(
    zendesk: ZendeskTwin, jira: JiraTwin, ticket_id: int
) -> None:
    zendesk.server.record_exchanges = True
    zendesk.server.faults.add(FaultRule(TICKET_PUT, error_rate=1.0))
    jira.server.faults.add(FaultRule("POST *", error_rate=1.0, error_status=502))

    answer = put_tags(zendesk, ticket_id, "vip")
    assert answer.status_code == 503
    assert set(answer.json()) == {"error", "description"}
    assert "vip" not in zendesk.ticket(ticket_id)["tags"]
    assert zendesk.server.requests[TICKET_PUT] == 0
    assert zendesk.server.exchanges == []

    issue = {"fields": {"project": {"key": "ENG"}, "summary": "s", "issuetype": {"name": "Bug"}}}
    failed = httpx.post(f"{jira.base_url}/rest/api/2/issue", json=issue, auth=JIRA_AUTH)
    assert failed.status_code == 502
    assert failed.json() == {"errorMessages": ["Bad Gateway."], "errors": {}}
    assert jira.issues() == []
    served = httpx.get(f"{jira.base_url}/rest/api/2/serverInfo", auth=JIRA_AUTH)
    assert served.status_code == 200  # not a POST
    assert jira.server.faults.counts == {"502": 1}


def test_a_429_storm_hits_every_matching_endpoint_with_retry_after(
    zendesk: ZendeskTwin, ticket_id: int
) -> None:
    zendesk.server.faults.add(FaultRule(
        "GET /api/v2/tickets/*", rate_limit_rate=0.2, storm_length=3, retry_after=7))
    paths = [f"/api/v2/tickets/{ticket_id}.json", f"/api/v2/tickets/{ticket_id}/tags.json"]
    with httpx.Client(base_url=zendesk.base_url, auth=ZENDESK_AUTH) as client:
        answers = [client.get(paths[n % 2]) for n in range(40)]

    statuses = "".join("R" if a.status_code == 429 else "." for a in answers)
    assert {a.status_code for a in answers} == {200, 429}
    # Each storm is its first 429 and 3 more; a storm may start right after one ends. The last
    # run may be a storm cut short by the end of the test.
    assert all(len(run) % 4 == 0 for run in statuses.split(".")[:-1]), statuses
    assert "RRRR" in statuses
    limited = [a for a in answers if a.status_code == 429]
    assert {a.headers["Retry-After"] for a in limited} == {"7"}
    assert limited[0].json()["error"] == "APIRateLimitExceeded"
    assert zendesk.server.faults.counts["429"] == len(limited)


def test_latency_delays_only_the_matching_endpoint(zendesk: ZendeskTwin, ticket_id: int) -> None:
    zendesk.server.faults.add(FaultRule(TICKET_PUT, latency=0.05))
    zendesk.server.faults.add(FaultRule(TICKET_PUT, latency=(0.01, 0.02)))
    started = time.monotonic()
    assert put_tags(zendesk, ticket_id, "slow").status_code == 200
    assert time.monotonic() - started >= 0.06  # both rules' latencies add up
    assert "slow" in zendesk.ticket(ticket_id)["tags"]
    me = httpx.get(f"{zendesk.base_url}/api/v2/users/me.json", auth=ZENDESK_AUTH)
    assert me.status_code == 200
    assert zendesk.server.faults.counts == {"latency": 1}


def test_a_reset_aborts_the_connection_before_anything_is_committed(
    zendesk: ZendeskTwin, ticket_id: int, capfd: pytest.CaptureFixture[str],
    request_threads_finish: Callable[[], None],
) -> None:
    zendesk.server.faults.add(FaultRule(TICKET_PUT, reset_rate=1.0))
    with pytest.raises(requests.ConnectionError, match="reset"):
        put_tags(zendesk, ticket_id, "vip")
    with pytest.raises(httpx.ReadError):
        httpx.put(f"{zendesk.base_url}/api/v2/tickets/{ticket_id}.json",
                  json={"ticket": {"additional_tags": ["vip"]}}, auth=ZENDESK_AUTH)

    assert "vip" not in zendesk.ticket(ticket_id)["tags"]
    assert zendesk.server.requests[TICKET_PUT] == 0
    assert zendesk.server.faults.snapshot() == {"reset": 2}
    request_threads_finish()
    assert "Traceback" not in capfd.readouterr().err


def test_a_drop_after_commit_keeps_the_write_but_loses_the_answer(
    zendesk: ZendeskTwin, ticket_id: int, capfd: pytest.CaptureFixture[str],
    request_threads_finish: Callable[[], None],
) -> None:
    zendesk.server.record_exchanges = True
    zendesk.server.faults.add(FaultRule(TICKET_PUT, drop_after_commit_rate=1.0))
    with pytest.raises(requests.ConnectionError):
        put_tags(zendesk, ticket_id, "vip")

    assert "vip" in zendesk.ticket(ticket_id)["tags"]  # committed: the client cannot know
    assert zendesk.server.requests[TICKET_PUT] == 1
    assert zendesk.server.exchanges == []  # no answer went out, so none is checked
    assert zendesk.server.faults.by_endpoint == {("drop_after_commit", TICKET_PUT): 1}
    request_threads_finish()
    assert "Traceback" not in capfd.readouterr().err
    # The twin keeps serving on new connections.
    me = httpx.get(f"{zendesk.base_url}/api/v2/users/me.json", auth=ZENDESK_AUTH)
    assert me.status_code == 200


def test_the_zendesk_adapter_surfaces_a_dropped_answer_as_transient(
    zendesk: ZendeskTwin, ticket_id: int
) -> None:
    raw = zendesk.ticket(ticket_id)
    stamp = datetime.fromisoformat(raw["updated_at"].replace("Z", "+00:00"))
    ticket = make_ticket(id=ticket_id, created_at=stamp, updated_at=stamp)
    desk = ZenpyTicketDesk(zendesk.base_url, "bot@example.com", "token",
                           retry=RetryPolicy(attempts=1))
    zendesk.server.faults.add(FaultRule(TICKET_PUT, drop_after_commit_rate=1.0))
    try:
        with pytest.raises(TransientError, match="ConnectionError"):
            desk.update_ticket(ticket, [AddTags(ticket_id, ("afterhours_seen",))])
    finally:
        desk.close()
    assert "afterhours_seen" in zendesk.ticket(ticket_id)["tags"]


# -- determinism and control ------------------------------------------------------------------


def outcomes(faults: Faults, endpoint: str, count: int) -> str:
    """The fault drawn for each of `count` requests, one letter each ("." for none)."""
    letters = {None: ".", "reset": "R", "drop_after_commit": "D", "answer": "E"}
    return "".join(letters[faults.draw(endpoint).kind] for _ in range(count))


def test_the_same_seed_gives_the_same_faults(
    zendesk: ZendeskTwin, ticket_id: int
) -> None:
    rule = FaultRule("*", reset_rate=0.1, drop_after_commit_rate=0.1, error_rate=0.2)
    first, second, other = Faults(seed=7), Faults(seed=7), Faults(seed=8)
    for faults in (first, second, other):
        faults.add(rule)
    sequence = outcomes(first, TICKET_PUT, 200)
    assert sequence == outcomes(second, TICKET_PUT, 200)
    assert sequence != outcomes(other, TICKET_PUT, 200)
    assert set(sequence) == {".", "R", "D", "E"}
    first.reseed(7)
    assert outcomes(first, TICKET_PUT, 200) == sequence

    # Over HTTP, one client sending the same requests meets the same faults.
    def statuses() -> list[int]:
        zendesk.server.faults.reseed(3)
        return [put_tags(zendesk, ticket_id, "t").status_code for _ in range(12)]

    zendesk.server.faults.add(FaultRule(TICKET_PUT, error_rate=0.5))
    once = statuses()
    assert once == statuses()
    assert set(once) == {200, 503}


def test_paused_faults_inject_nothing_and_resume_after(
    zendesk: ZendeskTwin, ticket_id: int
) -> None:
    faults = zendesk.server.faults
    faults.add(FaultRule("*", error_rate=1.0))
    with faults.paused():
        assert put_tags(zendesk, ticket_id, "checked").status_code == 200
        with faults.paused():
            pass
        assert not faults.enabled  # an inner pause does not end the outer one
    assert put_tags(zendesk, ticket_id, "x").status_code == 503
    faults.clear()
    assert put_tags(zendesk, ticket_id, "y").status_code == 200
    assert faults.counts == {"503": 1}  # clearing the rules keeps the history


# -- the chat twin's Idempotency-Key ----------------------------------------------------------


def test_a_repeated_idempotency_key_is_acknowledged_but_not_delivered_again(
    chat: ChatTwin,
) -> None:
    url = chat.webhook_url("ops")
    with httpx.Client() as client:
        # The draft quotes the key ("a"); a bare token is taken for the same key.
        for key, text in (("a", "ticket a"), ("a", "ticket a"), ('"a"', "ticket a"),
                          ("b", "ticket b")):
            answer = client.post(url, json={"text": text}, headers={"Idempotency-Key": key})
            assert (answer.status_code, answer.json()) == (200, "ok")
        for _ in range(2):
            assert client.post(url, json={"text": "no key"}).status_code == 200
        reused = client.post(url, json={"text": "other"}, headers={"Idempotency-Key": "a"})
        empty = client.post(url, json={"text": "x"}, headers={"Idempotency-Key": ""})

    assert (reused.status_code, reused.json()) == (422, "idempotency_key_reused")
    assert empty.status_code == 400
    assert chat.messages("ops") == ["ticket a", "ticket b", "no key", "no key"]
    assert chat.duplicates_suppressed == 2
    assert chat.posts_by_key == {("ops", "a"): 3, ("ops", "b"): 1}
    # Keys are per webhook: another channel may use the same one.
    httpx.post(chat.webhook_url("sales"), json={"text": "t"}, headers={"Idempotency-Key": "a"})
    assert chat.messages("sales") == ["t"]


def test_a_retry_after_a_dropped_chat_answer_delivers_once(chat: ChatTwin) -> None:
    chat.server.faults.add(FaultRule("POST /hooks/{channel}", drop_after_commit_rate=1.0))
    url, headers = chat.webhook_url("ops"), {"Idempotency-Key": "ticket-7-escalated"}
    with pytest.raises(httpx.ReadError):
        httpx.post(url, json={"text": "Ticket 7 escalated"}, headers=headers)
    chat.server.faults.clear()
    assert httpx.post(url, json={"text": "Ticket 7 escalated"}, headers=headers).json() == "ok"

    assert chat.messages() == ["Ticket 7 escalated"]
    # A receiver that ignores the header (Slack) would have shown it twice.
    assert chat.posts_by_key[("ops", "ticket-7-escalated")] == 2
    chat.server.faults.add(FaultRule("*", error_rate=1.0))
    unavailable = httpx.post(url, json={"text": "x"})
    assert (unavailable.status_code, unavailable.json()) == (503, "service_unavailable")
