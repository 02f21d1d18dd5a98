"""Metrics and readiness on their own: labels stay low-cardinality, readiness says why not."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from afterhours.clock import ManualClock
from afterhours.errors import TransientError
from afterhours.ops.health import Health
from afterhours.ops.metrics import Metrics, endpoint_template
from afterhours.outcomes import PassReport
from afterhours.retrying import RetryPolicy, call_with_retries
from afterhours.settings import parse_listen


def samples(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the registry, by name and labels."""
    found = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            found[sample.name, frozenset(sample.labels.items())] = sample.value
    return found


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return samples(metrics).get((name, frozenset(labels.items())))


@pytest.mark.parametrize(
    ("method", "url", "expected"),
    [
        ("GET", "https://acme.zendesk.com/api/v2/tickets/4711.json?include=users",
         "GET /api/v2/tickets/{id}.json"),
        ("get", "http://127.0.0.1:1/api/v2/incremental/tickets/cursor.json?cursor=abc",
         "GET /api/v2/incremental/tickets/cursor.json"),
        ("PUT", "https://acme.zendesk.com/api/v2/tickets/12/comments.json",
         "PUT /api/v2/tickets/{id}/comments.json"),
        ("POST", "https://acme.atlassian.net/rest/api/2/issue/ENG-12/remotelink",
         "POST /rest/api/2/issue/{key}/remotelink"),
        ("GET", "https://acme.atlassian.net/rest/api/3/search/jql?jql=labels%3Dzendesk-1",
         "GET /rest/api/3/search/jql"),
        ("GET", "https://x/objects/0f8fad5b-d9cb-469f-a165-70867728950e", "GET /objects/{id}"),
        ("GET", "https://acme.zendesk.com/api/v2/job_statuses/8b726e606741012ffc2d782bcb7848fe.json",
         "GET /api/v2/job_statuses/{id}.json"),
        (None, None, "GET /"),
    ],
)
def test_endpoints_are_templates_without_ids_keys_or_queries(
    method: str | None, url: str | None, expected: str
) -> None:
    assert endpoint_template(method, url) == expected


def test_each_daemon_has_its_own_registry_and_a_lone_daemon_is_the_leader() -> None:
    first, second = Metrics(), Metrics()
    first.action("AddTags", "done")
    assert value(first, "afterhours_actions_total", kind="AddTags", outcome="done") == 1
    assert value(second, "afterhours_actions_total", kind="AddTags", outcome="done") is None
    assert value(second, "afterhours_leader") == 1
    second.set_leader(False)
    assert value(second, "afterhours_leader") == 0
    # Every pass result is there at 0 from the start, so a rate() alert has a series.
    assert value(second, "afterhours_passes_total", result="failed") == 0


def test_an_escalation_counts_under_its_ladder_and_level_without_cycle_or_repeat() -> None:
    metrics = Metrics()
    metrics.escalation_fired("escalation:p1-page/level:lead@20261120T180000/repeat:2")
    metrics.escalation_fired("escalation:unresolved-24h/level:1")
    assert value(metrics, "afterhours_escalations_total", ladder="p1-page", level="lead") == 1
    assert value(metrics, "afterhours_escalations_total", ladder="unresolved-24h", level="1") == 1


def test_the_cursor_age_grows_until_the_export_catches_up(clock: ManualClock) -> None:
    metrics = Metrics(clock)
    clock.advance(timedelta(seconds=90))
    assert value(metrics, "afterhours_export_cursor_age_seconds") == 90
    metrics.export_caught_up()
    assert value(metrics, "afterhours_export_cursor_age_seconds") == 0
    clock.advance(timedelta(seconds=30))
    assert value(metrics, "afterhours_export_cursor_age_seconds") == 30


def test_retries_are_counted_and_a_429_wait_is_counted_as_rate_limiting() -> None:
    metrics = Metrics()
    failures = iter([TransientError("zendesk", "429", status=429, retry_after=7),
                     TransientError("zendesk", "503", status=503)])

    def flaky() -> str:
        error = next(failures, None)
        if error is not None:
            raise error
        return "ok"

    policy = RetryPolicy(sleep=lambda _: None, initial_wait=0.01, metrics=metrics)
    assert call_with_retries(policy, "zendesk.export", flaky) == "ok"
    assert value(metrics, "afterhours_retries_total", operation="zendesk.export") == 2
    assert value(metrics, "afterhours_rate_limit_wait_seconds_total", service="zendesk") == 7


@pytest.mark.parametrize(
    ("report", "result", "clean"),
    [
        (PassReport(done=3), "ok", True),
        (PassReport(done=3, deferred=1), "deferred", True),
        (PassReport(failed=1, deferred=1), "failed", False),
        (PassReport(crashed=1), "failed", False),
        (PassReport(export_failed=True), "failed", False),
        (PassReport(interrupted=True, deferred=2), "interrupted", False),
    ],
    ids=["ok", "deferred", "failed", "crashed-ticket", "export-failed", "interrupted"],
)
def test_a_deferral_leaves_a_pass_clean_a_failure_or_a_stop_does_not(
    report: PassReport, result: str, clean: bool
) -> None:
    assert report.result == result
    assert report.clean is clean


def test_readiness_allows_a_start_up_grace_then_wants_a_recent_pass(clock: ManualClock) -> None:
    health = Health(clock, poll_interval=60)
    assert health.check().reasons == ["no policy loaded"]
    health.policy_in_force("abc")
    assert health.check().ready  # starting: the first pass may take a while
    clock.advance(timedelta(seconds=181))
    assert health.check().reasons == [
        "no pass has finished in 181 s since start (allowed: 180 s)"]
    health.pass_finished()
    assert health.check().ready
    clock.advance(timedelta(seconds=180))
    assert health.check().ready
    clock.advance(timedelta(seconds=1))
    assert health.check().reasons == ["the last pass finished 181 s ago (allowed: 180 s)"]


def test_a_short_poll_interval_still_allows_two_minutes(clock: ManualClock) -> None:
    assert Health(clock, poll_interval=5).freshness == timedelta(seconds=120)


def test_a_store_that_fails_repeatedly_makes_the_daemon_unready(clock: ManualClock) -> None:
    down = True

    def parked() -> int:
        if down:
            raise sqlite3.OperationalError("database is locked")
        return 4

    metrics = Metrics(clock)
    health = Health(clock, parked_count=parked, metrics=metrics)
    health.policy_in_force("abc")
    for _ in range(2):
        health.pass_finished()
    assert health.check().ready  # one or two blips are not an outage
    health.pass_finished()
    assert health.check().reasons == [
        "the state store failed 3 times in a row: OperationalError: database is locked"]
    down = False
    health.pass_finished()
    readiness = health.check()
    assert readiness.ready
    # Parked actions need a person, not a restart: reported, never a reason to be unready.
    assert readiness.detail["parked_actions"] == 4
    assert value(metrics, "afterhours_parked_actions") == 4


@pytest.mark.parametrize("listen", ["8080", ":8080", "host:http", "host:70000", "host:"])
def test_a_listen_address_must_be_host_and_port(listen: str) -> None:
    with pytest.raises(ValueError, match="expected host:port"):
        parse_listen(listen)


def test_a_listen_address_may_be_ipv6() -> None:
    assert parse_listen("[::]:8080") == ("::", 8080)
    assert parse_listen("0.0.0.0:0") == ("0.0.0.0", 0)  # noqa: S104  (the image's setting)


def test_a_standby_is_ready_without_passes_and_a_new_leader_gets_the_grace(
    clock: ManualClock,
) -> None:
    health = Health(clock, poll_interval=60)
    health.policy_in_force("abc")
    health.leading(False)  # another replica holds the lease: this one runs no passes
    clock.advance(timedelta(hours=2))
    readiness = health.check()
    assert readiness.ready
    assert readiness.detail["leader"] is False
    health.leading(True)  # it took the lease over: its first pass may take a while
    assert health.check().ready
    clock.advance(timedelta(seconds=181))
    assert health.check().reasons == [
        "no pass has finished in 181 s since start (allowed: 180 s)"]
