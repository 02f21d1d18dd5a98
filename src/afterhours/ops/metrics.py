"""The daemon's Prometheus metrics: one registry per daemon, fed by small hooks at the
choke points (the recorder, the pass loop, the HTTP seams, the retry policy, the reloader).

Names and labels are an interface (dashboards and alerts are built on them); README.md,
"Operating afterhours", lists each one.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import choose_encoder

from afterhours.clock import Clock, utc_now

# Passes take seconds; a backfill after a long outage takes minutes.
_PASS_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
# From "at once" to "the daemon was down overnight".
_LAG_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600)
PASS_RESULTS = ("ok", "deferred", "failed", "interrupted", "crashed")
_NUMBER = re.compile(r"\d+")
# An id with a suffix: tickets/4711.json, job_statuses/8b726e606741012ffc2d782bcb7848fe.json.
_NUMBER_FILE = re.compile(r"(?:\d+|[0-9a-fA-F-]{16,})(\.\w+)")
_JIRA_KEY = re.compile(r"[A-Z][A-Z0-9_]*-\d+")
_OPAQUE = re.compile(r"[0-9a-fA-F-]{16,}")  # uuids, hashes, tokens in a path


def endpoint_template(method: str | None, url: str | None) -> str:
    """A request as a low-cardinality label: `GET /api/v2/tickets/{id}.json`; ids, issue keys
    and the query string are left out (they would make one series per ticket)."""
    segments = urlsplit(url or "").path.split("/")
    # The segment after "api" is a version (Jira's /rest/api/3/), not an id.
    path = "/".join(segment if before == "api" else _template(segment)
                    for before, segment in zip(["", *segments], segments, strict=False))
    return f"{(method or 'GET').upper()} {path or '/'}"


def _template(segment: str) -> str:
    if _NUMBER.fullmatch(segment) or _OPAQUE.fullmatch(segment):
        return "{id}"
    if match := _NUMBER_FILE.fullmatch(segment):
        return "{id}" + match.group(1)
    return "{key}" if _JIRA_KEY.fullmatch(segment) else segment


class Metrics:
    """Every afterhours metric, in a registry of its own (tests build several daemons)."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._clock = clock
        self._lock = threading.Lock()
        self._caught_up: datetime = clock()  # until the first export: since start
        r = self.registry
        self.passes = Counter("afterhours_passes", "Passes by result", ["result"], registry=r)
        for result in PASS_RESULTS:  # at 0 from the start, so rate() alerts see the series
            self.passes.labels(result)
        self.actions = Counter(
            "afterhours_actions", "Action outcomes by action kind", ["kind", "outcome"],
            registry=r)
        self.api_requests = Counter(
            "afterhours_api_requests", "HTTP requests to Zendesk, Jira and chat by answer",
            ["service", "endpoint", "status"], registry=r)
        self.pass_duration = Histogram(
            "afterhours_pass_duration_seconds", "Wall time of a pass", buckets=_PASS_BUCKETS,
            registry=r)
        self.leader = Gauge(
            "afterhours_leader", "1 on the replica that acts, 0 on a standby", registry=r)
        self.leader.set(1)  # without a lease a lone daemon acts
        self.retries = Counter(
            "afterhours_retries", "Retries scheduled by the retry policy", ["operation"],
            registry=r)
        self.rate_limit_wait = Counter(
            "afterhours_rate_limit_wait_seconds", "Seconds waited after a 429", ["service"],
            registry=r)
        self.budget_wait = Counter(
            "afterhours_rate_budget_wait_seconds",
            "Seconds requests waited for the rate budget before they were sent", ["service"],
            registry=r)
        self.budget_remaining = Gauge(
            "afterhours_rate_budget_remaining",
            "Requests afterhours may still send now without waiting for the rate budget",
            ["service"], registry=r)
        self.escalations = Counter(
            "afterhours_escalations", "Escalation levels fired", ["ladder", "level"], registry=r)
        self.handling_lag = Histogram(
            "afterhours_ticket_handling_lag_seconds",
            "From a ticket's update in Zendesk to the pass that planned from it",
            buckets=_LAG_BUCKETS, registry=r)
        self.cursor_age = Gauge(
            "afterhours_export_cursor_age_seconds",
            "Seconds since the incremental export last reached the end of Zendesk's stream",
            registry=r)
        self.cursor_age.set_function(self._cursor_age)
        self.policy_reloads = Counter(
            "afterhours_policy_reloads", "Policy reloads by result", ["result"], registry=r)
        for result in ("ok", "failed"):
            self.policy_reloads.labels(result)
        self.parked = Gauge(
            "afterhours_parked_actions", "Actions parked until a person acts", registry=r)
        self.webhook_deliveries = Counter(
            "afterhours_webhook_deliveries", "Pushed webhook deliveries by source and result",
            ["source", "result"], registry=r)
        self.webhook_queue = Gauge(
            "afterhours_webhook_queue", "Pushed tickets (zendesk) and issue events (jira)"
            " waiting for the daemon", ["source"], registry=r)

    def render(self) -> bytes:
        """The registry in Prometheus' text exposition format."""
        return generate_latest(self.registry)

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The registry in the format a scraper's Accept header asks for (Prometheus text
        0.0.4 unless it asks for OpenMetrics or a newer text format), and its content type."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type

    def pass_finished(self, result: str, seconds: float) -> None:
        """Count a pass (ok, deferred, failed, interrupted, crashed) and its duration."""
        self.passes.labels(result).inc()
        self.pass_duration.observe(seconds)

    def action(self, kind: str, outcome: str) -> None:
        """Count one action outcome (done, skipped, failed, deferred, conflict,
        join_refused)."""
        self.actions.labels(kind, outcome).inc()

    def api_request(self, service: str, endpoint: str, status: int | str | None) -> None:
        """Count one HTTP exchange; `status` None means no answer came (`error`)."""
        answer = "error" if status is None else str(status)
        self.api_requests.labels(service, endpoint, answer).inc()

    def retry_scheduled(self, operation: str, wait: float, rate_limited: str | None) -> None:
        """Count a retry; `rate_limited` names the service whose 429 the wait obeys."""
        self.retries.labels(operation).inc()
        if rate_limited is not None:
            self.rate_limit_wait.labels(rate_limited).inc(wait)

    def budget_waited(self, service: str, seconds: float) -> None:
        """Count seconds a request to `service` waited for the rate budget."""
        self.budget_wait.labels(service).inc(seconds)

    def budget_left(self, service: str, requests: int) -> None:
        """What the rate budget of `service` lets go now without waiting."""
        self.budget_remaining.labels(service).set(requests)

    def escalation_fired(self, rule: str) -> None:
        """Count a level from its planner rule `escalation:LADDER/level:LEVEL[@...][/repeat:N]`."""
        ladder, _, level = rule.removeprefix("escalation:").rpartition("/level:")
        self.escalations.labels(ladder, re.split(r"[@/]", level, maxsplit=1)[0]).inc()

    def ticket_handled(self, updated_at: datetime) -> None:
        """Observe how long after its update in Zendesk a ticket was planned."""
        self.handling_lag.observe(max(0.0, (self._clock() - updated_at).total_seconds()))

    def export_caught_up(self) -> None:
        """The export reached the end of the stream: the daemon's view of Zendesk is current."""
        with self._lock:
            self._caught_up = self._clock()

    def policy_reload(self, result: str) -> None:
        """Count a reload: `ok` or `failed` (the previous policy stays in force)."""
        self.policy_reloads.labels(result).inc()

    def set_parked(self, count: int) -> None:
        """How many actions wait for a person now."""
        self.parked.set(count)

    def webhook_delivery(self, source: str, result: str) -> None:
        """Count one pushed delivery (afterhours.push.routes) by its result."""
        self.webhook_deliveries.labels(source, result).inc()

    def push_queued(self, source: str, count: int) -> None:
        """How many pushed items from `source` wait for the daemon now."""
        self.webhook_queue.labels(source).set(count)

    def set_leader(self, leader: bool) -> None:
        """Whether this replica holds the lease and acts."""
        self.leader.set(1 if leader else 0)

    def _cursor_age(self) -> float:
        with self._lock:
            caught_up = self._caught_up
        return max(0.0, (self._clock() - caught_up).total_seconds())
