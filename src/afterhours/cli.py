"""The `afterhours` command: run | check | config | schema | explain | replay | audit | failed |
retry | import-schedule | report | demo | twins | webhooks | completion. Each returns an exit
code.

Here are the parser (completion scripts are made from it) and the handling of errors every
command shares; the commands themselves are in modules of their own (run_command.py,
check_command.py, demo/command.py, *_command.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import shtab
from pydantic import ValidationError
from pydantic_settings import SettingsError

from afterhours import __version__
from afterhours.audit_command import add_audit
from afterhours.check_command import run_check
from afterhours.cli_grammar import (
    Parser,
    add_global_options,
    add_output,
    global_values,
    reject_extras,
)
from afterhours.cli_help import epilog
from afterhours.config_command import add_config
from afterhours.demo.command import run_demo
from afterhours.errors import ConfigError, PolicyError, StateError
from afterhours.inspect.commands import (
    add_explain_arguments,
    add_replay_arguments,
    run_explain,
    run_replay,
)
from afterhours.inspect.schedule_command import add_import_schedule
from afterhours.logs import configure_logging
from afterhours.parking_commands import add_parked_commands
from afterhours.policy.schema import render_schema
from afterhours.redact import redacted_output
from afterhours.report.command import add_report
from afterhours.run_command import run_daemon
from afterhours.settings import (
    LocalSettings,
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
        # one that fails during a run is reported by `run_daemon` itself (exit 1).
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
    _add(commands, "run", "run the daemon (settings from AFTERHOURS_* variables)", run_daemon,
         ("policy", "state", "log_format"))
    run = commands.choices["run"]
    run.add_argument("--once", action="store_true", help="one pass, then exit")
    run.add_argument(
        "--dry-run", action="store_true",
        help="read Zendesk and plan as usual, but write nothing anywhere; log what would be done",
    )
    check = _add(commands, "check", "validate a policy file; exit 2 if it is wrong", run_check,
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
    demo = _add(commands, "demo", "one accelerated after-hours night on the twins", run_demo,
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


def _schema(_: argparse.Namespace) -> int:
    sys.stdout.write(render_schema())
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    return run_explain(args)


def _replay(args: argparse.Namespace) -> int:
    return run_replay(args)


def _completion(args: argparse.Namespace) -> int:
    # Generated from the parser itself, so it offers exactly the commands and options there are.
    sys.stdout.write(shtab.complete(build_parser(), shell=args.shell))
    return EXIT_OK
