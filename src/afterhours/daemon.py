"""The daemon's loop around the passes: the lease (only the leading replica runs them), the
policy reload before each, how long a failing state store is ridden out, and push mode:
between passes the loop wakes as soon as a pushed ticket (or an acknowledgement) waits
(afterhours.push), stores it and runs a pass that skips the export; the export is still read
every `interval`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog

from afterhours.errors import LeaseLostError, StateError
from afterhours.logs import correlated_pass
from afterhours.push.ack_handling import take_acks
from afterhours.push.handling import take_pushed

if TYPE_CHECKING:
    from afterhours.push.queue import PushQueue
    from afterhours.service import Service

log = structlog.get_logger()
# Passes in a row whose state store failed before the daemon gives up and exits non-zero:
# a few minutes to ride out a full disk being cleared, not hours of doing nothing.
MAX_STORE_FAILURES = 5
# How often a standby looks whether its lease keeper took the lease over (seconds).
STANDBY_POLL = 0.1


def run_forever(
    service: Service, interval: float, *, before_pass: Callable[[], object] | None = None,
    on_lead: Callable[[], object] | None = None, pushes: PushQueue | None = None,
) -> None:
    """Run passes every `interval` seconds until `service.stop` is set; `before_pass` runs
    first each time (the policy reloader: the policy only changes between passes).
    Only while this replica leads: a standby waits, and `on_lead` runs each time it
    starts to lead, before its first pass. A write refused by the fence (LeaseLostError)
    makes it a standby again. `pushes`: tickets pushed meanwhile are stored and planned at
    once, by a pass without the export (or with it, when one is due anyway).

    StateError when the state store failed `MAX_STORE_FAILURES` passes in a row, or was
    still failing when told to stop: a daemon that cannot record must not look healthy.
    """
    store_error: StateError | None = None
    failures = 0
    leading = False
    next_poll = 0.0  # time.monotonic() when the export is read next: at once
    while not service.stop.is_set():
        if not service.is_leader:
            leading = False
            _stand_by(service)
            continue
        polling = time.monotonic() >= next_poll
        with correlated_pass():  # the reload before a pass, and its crash, carry its id
            try:
                if not leading and on_lead is not None:
                    on_lead()
                leading = True
                if before_pass is not None:
                    before_pass()
                pushed = take_pushed(service, pushes) if pushes is not None else 0
                acked = take_acks(service, pushes) if pushes is not None else 0
                issues = ([event.key for event in pushes.drain_jira()]
                          if pushes is not None else [])
                if polling:
                    service.run_pass(issues=issues)
                elif pushed or acked or issues:
                    service.run_pass(read_export=False, issues=issues)
                store_error, failures = None, 0
            except LeaseLostError as error:
                leading = False
                _step_down(service, error)
                continue
            except StateError as error:
                store_error, failures = error, failures + 1
                log.error("state.failed", error=str(error), consecutive=failures,
                          limit=MAX_STORE_FAILURES)
                if failures >= MAX_STORE_FAILURES:
                    raise
            except Exception:  # a daemon outlives a bad pass; the next one starts afresh
                log.exception("pass.crashed")
        if polling:
            next_poll = time.monotonic() + interval
        _wait(service, pushes, next_poll)
    log.info("daemon.stopped")
    if store_error is not None:
        raise store_error


def _wait(service: Service, pushes: PushQueue | None, until: float) -> None:
    """Until `until` (time.monotonic()), a stop, or a pushed ticket waiting."""
    while not service.stop.is_set():
        left = until - time.monotonic()
        if left <= 0:
            return
        if pushes is None:
            service.stop.wait(left)
        elif pushes.wait(min(left, STANDBY_POLL)):  # a stop is seen within STANDBY_POLL
            return


def _stand_by(service: Service) -> None:
    """Wait while another replica leads: until the lease keeper takes the lease over, or
    this daemon is told to stop. Readiness hears from the store meanwhile."""
    probe_every = service.lease.lease.renew_every if service.lease is not None else 1.0
    next_probe = 0.0
    while not service.stop.is_set() and not service.is_leader:
        if time.monotonic() >= next_probe:
            service.health.probe_store()
            next_probe = time.monotonic() + probe_every
        service.stop.wait(STANDBY_POLL)


def _step_down(service: Service, error: LeaseLostError) -> None:
    """A fenced write was refused: another replica leads now; stop acting, stand by."""
    if service.lease is None:  # pragma: no cover  (nothing fences a lone daemon's writes)
        raise error
    service.lease.forfeit(str(error))
