"""The `afterhours` command: run | check | schema | explain | replay | import-schedule | demo |
audit | failed | retry. Each returns an exit code."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from types import FrameType

import structlog
from pydantic import ValidationError
from pydantic_settings import SettingsError

from afterhours import __version__
from afterhours.bootstrap import build_reloader, build_service, open_state
from afterhours.demo.night import DemoNight
from afterhours.demo.report import write_report
from afterhours.errors import ConfigError, LeaseLostError, PolicyError, StateError
from afterhours.inspect.commands import (
    add_explain_arguments,
    add_replay_arguments,
    run_explain,
    run_replay,
)
from afterhours.inspect.live_command import run_live_check
from afterhours.inspect.schedule_command import add_import_schedule
from afterhours.logs import configure_logging
from afterhours.ops.server import HttpServer, start_server
from afterhours.parking import replan_on_change
from afterhours.parking_commands import add_parked_commands
from afterhours.policy import load_policy
from afterhours.policy.schema import render_schema
from afterhours.redact import redacted_output
from afterhours.settings import LocalSettings, Settings, register_environment_secrets

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2  # bad input: a policy that does not validate, settings that are missing
log = structlog.get_logger()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` and run the chosen command; return its exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    # Every command's output and log lines hide the secrets the environment holds, even
    # those it does not read itself (audit, check): see afterhours.redact.
    register_environment_secrets()
    with redacted_output():
        return _command(args)


def _command(args: argparse.Namespace) -> int:
    try:
        code: int = args.command(args)
    except PolicyError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return EXIT_USAGE
    except (ConfigError, StateError) as error:
        # At start-up a state store that cannot be used is configuration to fix (exit 2);
        # one that fails during a run is reported by `_run` itself (exit 1).
        print(f"afterhours: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ValidationError as error:
        print(_settings_problems(error), file=sys.stderr)
        return EXIT_USAGE
    except SettingsError as error:  # e.g. AFTERHOURS_WEBHOOKS that is not JSON
        print(f"afterhours: settings: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (`afterhours demo | head`): no traceback, and no second error
        # when Python flushes stdout at exit (the recipe in the signal module's docs).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="afterhours", description="Zendesk/Jira after-hours triage and sync daemon."
    )
    parser.add_argument("--version", action="version", version=f"afterhours {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the daemon (settings from AFTERHOURS_* variables)")
    run.add_argument("--once", action="store_true", help="one pass, then exit")
    run.add_argument(
        "--dry-run", action="store_true",
        help="read Zendesk and plan as usual, but write nothing anywhere; log what would be done",
    )
    run.set_defaults(command=_run)

    check = commands.add_parser("check", help="validate a policy file; exit 2 if it is wrong")
    check.add_argument("file", nargs="?", type=Path, help="default: AFTERHOURS_POLICY_FILE")
    check.add_argument(
        "--live", action="store_true",
        help="also post a test message to each channel and look up every group, agent, custom "
        "field and Jira project, issue type, component and priority the policy names",
    )
    check.set_defaults(command=_check)

    schema = commands.add_parser("schema", help="print the policy's JSON Schema, for editors")
    schema.set_defaults(command=_schema)

    demo = commands.add_parser("demo", help="one accelerated after-hours night on the twins")
    demo.add_argument("--policy", type=Path, help="default: the bundled config/policy.yaml")
    demo.add_argument("--state", type=Path, help="keep the state file here (default: temporary)")
    demo.add_argument("--verbose", action="store_true", help="show the daemon's logs too")
    demo.set_defaults(command=_demo)

    audit = commands.add_parser("audit", help="print the audit trail as JSON lines")
    audit.add_argument("--ticket", type=int, help="only this ticket")
    audit.add_argument("--limit", type=int, default=1000)
    audit.add_argument("--db", type=Path,
                       help="a SQLite state file (default: AFTERHOURS_STATE_URL's database)")
    audit.set_defaults(command=_audit)

    explain = commands.add_parser(
        "explain", help="what the policy says about one ticket, and why; acts on nothing")
    add_explain_arguments(explain)
    explain.set_defaults(command=_explain)

    replay = commands.add_parser(
        "replay", help="run the policy over a period's tickets and summarise; acts on nothing")
    add_replay_arguments(replay)
    replay.set_defaults(command=_replay)
    add_import_schedule(commands)
    add_parked_commands(commands)
    return parser


def _run(args: argparse.Namespace) -> int:
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
        if settings.http_listen:
            server = start_server(settings.http_listen, service.health, service.metrics)
        log.info("daemon.started", policy=loaded.path, policy_sha256=loaded.sha256,
                 state=service.state.where, leader=service.is_leader, once=args.once)

        def request_stop(signum: int, _: FrameType | None) -> None:
            # Finish the ticket in hand, record it, then leave: nothing is cut half-way.
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
        service.run_forever(settings.poll_interval, before_pass=reloader.reload_if_changed,
                            on_lead=take_office)
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


def _check(args: argparse.Namespace) -> int:
    path = args.file or LocalSettings().policy_file
    loaded = load_policy(path)
    policy = loaded.policy
    print(
        f"{loaded.path}: ok ({len(policy.priority_rules.rules)} priority rules,"
        f" {len(policy.routes.rules)} routes, {len(policy.escalations.rules)} escalation ladders,"
        f" {len(policy.channels)} channels, {len(policy.oncall)} on-call teams;"
        f" sha256 {loaded.sha256[:12]})"
    )
    if args.live:
        return run_live_check(policy, sys.stdout)
    return EXIT_OK


def _schema(_: argparse.Namespace) -> int:
    sys.stdout.write(render_schema())
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    configure_logging("console" if args.verbose else "json", "info" if args.verbose else "error")
    if args.policy is not None:
        loaded = load_policy(args.policy)
    else:
        bundled = resources.files("afterhours") / "data" / "policy.yaml"
        with resources.as_file(bundled) as path:
            loaded = load_policy(path)
    with tempfile.TemporaryDirectory(prefix="afterhours-demo-") as scratch:
        state = args.state or Path(scratch) / "state.sqlite3"
        with DemoNight(loaded.policy, state) as night:
            night.run()
            write_report(night, sys.stdout)
    return EXIT_OK


def _audit(args: argparse.Namespace) -> int:
    state = open_state(LocalSettings(), db=args.db, existing=True)
    try:
        for row in state.audit(ticket_id=args.ticket, limit=args.limit):
            print(json.dumps(row.__dict__, sort_keys=True))
    finally:
        state.close()
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    return run_explain(args)


def _replay(args: argparse.Namespace) -> int:
    return run_replay(args)


def _settings_problems(error: ValidationError) -> str:
    lines = ["afterhours: settings are missing or wrong (set them as environment variables):"]
    for item in error.errors():
        name = "AFTERHOURS_" + "_".join(str(p) for p in item["loc"]).upper()
        lines.append(f"  {name}: {item['msg']}")
    return "\n".join(lines)

