"""The `afterhours` command: run | check | config | schema | explain | replay | audit | failed |
retry | import-schedule | report | demo | twins | webhooks | completion. Each returns an exit
code."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from functools import partial
from importlib import resources
from pathlib import Path
from types import FrameType

import shtab
import structlog
from pydantic import ValidationError
from pydantic_settings import SettingsError
from starlette.routing import BaseRoute

from afterhours import __version__, daemon
from afterhours.audit_command import add_audit
from afterhours.bootstrap import build_reloader, build_service, open_state
from afterhours.cli_grammar import (
    Parser,
    add_global_options,
    add_output,
    global_values,
    reject_extras,
)
from afterhours.cli_help import epilog
from afterhours.config_command import add_config
from afterhours.demo.night import DemoNight
from afterhours.demo.report import write_report
from afterhours.demo.targets import write_demo_policy
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
from afterhours.ops.status_page import status_routes
from afterhours.parking import replan_on_change
from afterhours.parking_commands import add_parked_commands
from afterhours.policy import load_policy
from afterhours.policy.schema import render_schema
from afterhours.push.mode import PushMode, push_mode
from afterhours.redact import redacted_output
from afterhours.report.command import add_report
from afterhours.service import Service
from afterhours.settings import (
    LocalSettings,
    Settings,
    command_line_settings,
    register_environment_secrets,
)
from afterhours.settings_report import settings_error_message, settings_problems
from afterhours.twins_command import add_twins
from afterhours.unlink_command import add_unlink
from afterhours.webhooks_command import add_webhooks

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2  # bad input: a policy that does not validate, settings that are missing
EXIT_INTERRUPTED = 130  # SIGINT, as shells report it
log = structlog.get_logger()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` and run the chosen command; return its exit code."""
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    chosen: argparse.ArgumentParser = getattr(args, "parser", parser)
    if extras:
        reject_extras(chosen, extras)
    if getattr(args, "command", None) is None:  # `afterhours` alone: what it can do
        parser.print_help()
        return EXIT_OK
    # Every command's output and log lines hide the secrets the environment holds, even
    # those it does not read itself (audit, check): see afterhours.redact.
    register_environment_secrets()
    with redacted_output(), command_line_settings(global_values(args)):
        _default_logging()
        return _command(args)


def _default_logging() -> None:
    """Log lines on stderr in the configured format for every command, also those that set
    nothing up themselves (a migration's line while audit opens the state, say); settings that
    do not parse are left to the command that needs them to report."""
    try:
        settings = LocalSettings()
    except (ValidationError, SettingsError):
        configure_logging()
        return
    configure_logging(settings.log_format, settings.log_level, settings.library_log_level)


def _command(args: argparse.Namespace) -> int:  # noqa: PLR0911  (one return per kind of error)
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
        print("afterhours: settings are missing or wrong (set them as environment variables;"
              " `afterhours config --check` checks them all):", file=sys.stderr)
        for problem in settings_problems(error):
            print(f"  {problem}", file=sys.stderr)
        return EXIT_USAGE
    except SettingsError as error:  # a secret file that cannot be read, say
        print(f"afterhours: settings: {settings_error_message(error)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("afterhours: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`afterhours demo | head`): no traceback, and no second error
        # when Python flushes stdout at exit (the recipe in the signal module's docs).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    return code


def build_parser() -> argparse.ArgumentParser:
    """The whole grammar: every command, option and help text (completion is made from it)."""
    parser: argparse.ArgumentParser = Parser(
        prog="afterhours", description="Zendesk/Jira after-hours triage and sync daemon.",
        epilog="Global options go before or after the command; each also has its AFTERHOURS_"
        " variable. `afterhours COMMAND --help` lists the settings a command reads, the"
        " signals it answers and its exit codes.",
    )
    parser.add_argument("--version", action="version", version=f"afterhours {__version__}")
    add_global_options(parser, "policy", "state", "log_format")
    # Each command's parser is a Parser too (argparse makes them of the root's class).
    commands = parser.add_subparsers(metavar="COMMAND")
    _add(commands, "run", "run the daemon (settings from AFTERHOURS_* variables)", _run,
         ("policy", "state", "log_format"))
    run = commands.choices["run"]
    run.add_argument("--once", action="store_true", help="one pass, then exit")
    run.add_argument(
        "--dry-run", action="store_true",
        help="read Zendesk and plan as usual, but write nothing anywhere; log what would be done",
    )
    check = _add(commands, "check", "validate a policy file; exit 2 if it is wrong", _check,
                 ("policy", "log_format"))
    check.add_argument("file", nargs="?", type=Path, help=argparse.SUPPRESS)
    check.add_argument(
        "--live", action="store_true",
        help="also post a test message to each chat channel, reach each PagerDuty and e-mail"
        " channel without paging anyone, and look up every group, agent, custom field and Jira"
        " project, issue type, component and priority the policy names",
    )
    check.add_argument(
        "--send-test", action="store_true",
        help="with --live: also send one test page (resolved at once) to each PagerDuty"
        " channel and one test mail to each e-mail channel",
    )
    add_output(check, json_alias=False)
    add_config(_add(commands, "config", "print the effective settings; --check validates them",
                    None, ("policy", "state", "log_format")))
    _add(commands, "schema", "print the policy's JSON Schema, for editors", _schema, ())
    demo = _add(commands, "demo", "one accelerated after-hours night on the twins", _demo,
                ("policy", "state", "log_format"))
    demo.add_argument("--verbose", action="store_true", help="show the daemon's logs too")
    add_twins(_add(commands, "twins", "serve Zendesk, Jira and chat twins on 127.0.0.1 to try"
                   " every command offline", None, ("policy", "log_format")))
    add_webhooks(_add(commands, "webhooks", "print what to configure in Zendesk and Jira for"
                      " push mode", None, ("log_format",)))
    add_audit(_add(commands, "audit", "the audit trail, newest first", None,
                   ("state", "log_format")))
    add_explain_arguments(_add(
        commands, "explain", "what the policy says about one ticket, and why; acts on nothing",
        _explain, ("policy", "state", "log_format")))
    add_replay_arguments(_add(
        commands, "replay", "run the policy over a period's tickets and summarise; acts on"
        " nothing", _replay, ("policy", "log_format")))
    add_import_schedule(commands, _add)
    add_parked_commands(commands, _add)
    add_unlink(commands, _add)
    add_report(commands, _add)
    completion = _add(commands, "completion", "print a shell completion script: bash or zsh",
                      _completion, ())
    completion.add_argument("shell", choices=("bash", "zsh"),
                            help="source <(afterhours completion bash), or for zsh write it to"
                                 " a directory on $fpath as _afterhours")
    return parser


def _add(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str,
    handler: object, options: Sequence[str],
) -> argparse.ArgumentParser:
    """A command with its help's summary and end (settings, signals, exit codes), its global
    options, and `handler` (or one set later by the module that adds its arguments)."""
    sub = commands.add_parser(name, help=summary, description=summary[:1].upper() + summary[1:]
                              + ".", epilog=epilog(name),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    add_global_options(sub, *options)
    sub.set_defaults(parser=sub)
    if handler is not None:
        sub.set_defaults(command=handler)
    return sub


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


def _check(args: argparse.Namespace) -> int:
    settings = LocalSettings()
    # The report is the output; the log's lines (on stderr) only matter when something fails.
    configure_logging(settings.log_format,
                      "debug" if settings.log_level == "debug" else "warning",
                      settings.library_log_level)
    path = settings.policy_file
    if args.file is not None:
        print("afterhours: `check FILE` is deprecated; use `afterhours check --policy FILE`",
              file=sys.stderr)
        path = args.file
    try:
        loaded = load_policy(path)
    except PolicyError as error:
        if args.output != "json":
            raise
        _print_json({"policy": str(path), "ok": False, "problems": list(error.problems)})
        return EXIT_USAGE
    policy = loaded.policy
    counts = {"priority_rules": len(policy.priority_rules.rules),
              "routes": len(policy.routes.rules),
              "escalations": len(policy.escalations.rules), "channels": len(policy.channels),
              "oncall": len(policy.oncall)}
    if args.output == "json":
        found = {"policy": str(loaded.path), "ok": True, "sha256": loaded.sha256, **counts}
        if not args.live:
            _print_json(found)
            return EXIT_OK
        code, results = run_live_check(policy, None, send_test=args.send_test)
        _print_json({**found, "ok": code == EXIT_OK, "live": results})
        return code
    print(
        f"{loaded.path}: ok ({counts['priority_rules']} priority rules,"
        f" {counts['routes']} routes, {counts['escalations']} escalation ladders,"
        f" {counts['channels']} channels, {counts['oncall']} on-call teams;"
        f" sha256 {loaded.sha256[:12]})"
    )
    if args.live:
        return run_live_check(policy, sys.stdout, send_test=args.send_test)[0]
    return EXIT_OK


def _print_json(value: object) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _schema(_: argparse.Namespace) -> int:
    sys.stdout.write(render_schema())
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    # The demo runs on twins of its own: it reads no AFTERHOURS_ variable, so a production
    # state URL in the environment is never touched.
    log_format = getattr(args, "log_format", None) or ("console" if args.verbose else "json")
    configure_logging(log_format, "info" if args.verbose else "error")
    policy = getattr(args, "policy", None)
    given = getattr(args, "state", None)
    if given is not None and given.startswith(("postgresql://", "postgres://")):
        raise ConfigError("demo --state: the demo keeps its state in a SQLite file; give a path")
    with tempfile.TemporaryDirectory(prefix="afterhours-demo-") as scratch:
        if policy is not None:
            loaded = load_policy(Path(policy))
        else:  # the shipped policy, with the demo's PagerDuty, e-mail and Slack targets
            bundled = resources.files("afterhours") / "data" / "policy.yaml"
            loaded = load_policy(write_demo_policy(bundled.read_text(encoding="utf-8"),
                                                   Path(scratch)))
        state = Path(given.removeprefix("sqlite:///")) if given else \
            Path(scratch) / "state.sqlite3"
        with DemoNight(loaded.policy, state) as night:
            night.run()
            write_report(night, sys.stdout)
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    return run_explain(args)


def _replay(args: argparse.Namespace) -> int:
    return run_replay(args)


def _completion(args: argparse.Namespace) -> int:
    # Generated from the parser itself, so it offers exactly the commands and options there are.
    sys.stdout.write(shtab.complete(build_parser(), shell=args.shell))
    return EXIT_OK
