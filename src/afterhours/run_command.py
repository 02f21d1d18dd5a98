"""`afterhours run`: the daemon started from its settings and policy, with its HTTP server,
push mode and status page when configured, and stopped cleanly by SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import signal
import sys
from functools import partial
from types import FrameType

import structlog
from starlette.routing import BaseRoute

from afterhours import daemon
from afterhours.bootstrap import build_reloader, build_service, open_state
from afterhours.errors import LeaseLostError, StateError
from afterhours.logs import configure_logging
from afterhours.ops.server import HttpServer, start_server
from afterhours.ops.status_page import status_routes
from afterhours.parking import replan_on_change
from afterhours.policy import load_policy
from afterhours.push.mode import PushMode, push_mode
from afterhours.service import Service
from afterhours.settings import Settings

EXIT_OK, EXIT_FAILED = 0, 1
log = structlog.get_logger()


def run_daemon(args: argparse.Namespace) -> int:
    """`afterhours run`: the daemon until a signal stops it, or one pass with --once."""
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level, settings.library_log_level)
    loaded = load_policy(settings.policy_file)
    if args.dry_run:
        # On every line of this run, start-up's too: "action.done" means it would have been.
        structlog.contextvars.bind_contextvars(dry_run=True)
    try:
        service = build_service(settings, loaded.policy, dry_run=args.dry_run)
    except BaseException:
        structlog.contextvars.unbind_contextvars("dry_run")
        raise
    server: HttpServer | None = None
    try:

        def take_office() -> None:
            # Written by the replica that acts (a standby's writes would be fenced out), each
            # time it starts to: the policy in force, and parked actions released when a
            # policy or settings change may have fixed them.
            service.state.record(
                at=service.clock(), ticket_id=None, outcome="policy_loaded",
                reason=f"policy {loaded.path} in force", detail={"sha256": loaded.sha256},
            )
            replan_on_change(settings, service.state, service.clock, loaded)

        service.health.policy_in_force(loaded.sha256)
        # `run --once` takes no pushes: nothing would take them from the queue.
        push = PushMode() if args.once else push_mode(settings, service)
        if settings.http_listen:
            server = start_server(settings.http_listen, service.health, service.metrics,
                                  [*push.routes, *_status_page(settings, service)])
        log.info("daemon.started", policy=loaded.path, policy_sha256=loaded.sha256,
                 state=service.state.where, leader=service.is_leader, once=args.once)

        def request_stop(signum: int, _: FrameType | None) -> None:
            # Finish the batch in hand, record it, then leave: nothing is cut half-way.
            log.info("daemon.stopping", signal=signal.Signals(signum).name)
            service.stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        if args.once:
            if not service.is_leader:
                print("afterhours: another replica holds the lease and acts: this pass would"
                      " race it, so none was run", file=sys.stderr)
                return EXIT_FAILED
            take_office()
            # Exit 1 when the pass could not complete (the export, a crash, a stop) or an
            # action failed for good; a deferred action is retried by the next run: exit 0.
            return EXIT_OK if service.run_pass().clean else EXIT_FAILED
        reloader = build_reloader(settings, service, loaded)

        def request_reload(_: int, __: FrameType | None) -> None:
            # Only a count: the reload itself runs between passes, never inside one.
            reloader.request()

        signal.signal(signal.SIGHUP, request_reload)
        daemon.run_forever(service, settings.poll_interval, on_lead=take_office,
                           before_pass=reloader.reload_if_changed, pushes=push.queue)
        return EXIT_OK
    except LeaseLostError as error:  # `run --once`: another replica took over mid-pass
        print(f"afterhours: {error}", file=sys.stderr)
        return EXIT_FAILED
    except StateError as error:
        # Opened fine at start (else exit 2 above), then failed: the run could not go on.
        print(f"afterhours: the state store failed during the run: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if server is not None:
            server.stop()
        service.close()
        structlog.contextvars.unbind_contextvars("dry_run")


def _status_page(settings: Settings, service: Service) -> list[BaseRoute]:
    """The status page's routes when AFTERHOURS_STATUS_PAGE is true: each request reads the
    state on a connection of its own, never the loop's."""
    if not settings.status_page:
        return []
    return status_routes(partial(open_state, settings), lambda: service.policy,
                         service.health, service.clock, settings.poll_interval)
