"""The grammar every `afterhours` command shares, as `gh` and `kubectl` read.

- global options, each also read from its AFTERHOURS_ variable: `--policy` (the policy
  file), `--state` (a state URL, or a SQLite file's path) and `--log-format`; given before or
  after the command, on every command that uses them;
- `--output text|json` on every command that reads and reports;
- a mistyped command or option gets that command's usage and a "did you mean";
- old spellings (`check FILE`, `--db`, `--json`) still work, with a note saying the new one.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import shtab

from afterhours.settings import state_url_for

EXIT_USAGE = 2
GLOBAL_OPTIONS = {
    "policy": ("--policy", "FILE", "the policy file (default: AFTERHOURS_POLICY_FILE,"
               " else config/policy.yaml)"),
    "state": ("--state", "URL|PATH", "the state: sqlite:///path, postgresql://..., or a"
              " SQLite file's path (default: AFTERHOURS_STATE_URL, else AFTERHOURS_STATE_DB)"),
    "log_format": ("--log-format", "FORMAT", "auto, json or console (default:"
                   " AFTERHOURS_LOG_FORMAT, else auto: console on a terminal, JSON otherwise)"),
}
_CHOICES = {"log_format": ("auto", "json", "console")}
# The cli's maker of a command: (commands, name, summary, handler, global options) -> parser.
AddCommand = Callable[
    ["argparse._SubParsersAction[argparse.ArgumentParser]", str, str, object, Sequence[str]],
    argparse.ArgumentParser]


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors give the command's own usage and a "did you mean";
    options are spelt out (no abbreviations, which a later option could make ambiguous)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Print this parser's usage and `message`, with a suggestion when one is close."""
        self.print_usage(sys.stderr)
        hint = _suggestion(self, message)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}{hint}\n")


def _suggestion(parser: argparse.ArgumentParser, message: str) -> str:
    if "invalid choice: " in message:
        wrong = message.split("invalid choice: ", 1)[1].split("'")[1]
        choices = [c for a in parser._actions if a.choices for c in a.choices]
        return did_you_mean(wrong, [str(c) for c in choices])
    return ""


def did_you_mean(wrong: str, known: Sequence[str]) -> str:
    """'; did you mean 'x'?' for the known word closest to `wrong`, or nothing."""
    close = difflib.get_close_matches(wrong, known, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def option_strings(parser: argparse.ArgumentParser) -> list[str]:
    """Every option a parser takes (--once, -h...)."""
    return [o for action in parser._actions for o in action.option_strings]


def reject_extras(parser: argparse.ArgumentParser, extras: Sequence[str]) -> NoReturn:
    """Report arguments the command does not take, with that command's usage."""
    options = option_strings(parser)
    hints = [did_you_mean(e.split("=", 1)[0], options) for e in extras if e.startswith("-")]
    parser.error(f"unrecognized arguments: {' '.join(extras)}{next(filter(None, hints), '')}")


def add_global_options(parser: argparse.ArgumentParser, *names: str) -> None:
    """Add the global options `names` (policy, state, log_format) to a parser; absent ones are
    not set, so a value given before the command is not overwritten by the command's default."""
    for name in names:
        flag, metavar, help_text = GLOBAL_OPTIONS[name]
        action = parser.add_argument(flag, dest=name, metavar=metavar, help=help_text,
                                     default=argparse.SUPPRESS, choices=_CHOICES.get(name))
        if name in ("policy", "state"):
            action.complete = shtab.FILE  # type: ignore[attr-defined]


def add_output(parser: argparse.ArgumentParser, *, json_alias: bool = True) -> None:
    """`--output text|json`, and the older `--json` as a deprecated alias."""
    parser.add_argument("--output", "-o", choices=("text", "json"), default="text",
                        help="text for people (default), or json for scripts")
    if json_alias:
        parser.add_argument("--json", dest="output", action=DeprecatedAlias, nargs=0,
                            const="json", replacement="--output json",
                            help=argparse.SUPPRESS)


def add_db_alias(parser: argparse.ArgumentParser) -> None:
    """`--db PATH`, the older spelling of `--state PATH`."""
    action = parser.add_argument("--db", dest="state", action=DeprecatedAlias,
                                 replacement="--state PATH", help=argparse.SUPPRESS,
                                 default=argparse.SUPPRESS)
    action.complete = shtab.FILE  # type: ignore[attr-defined]


class DeprecatedAlias(argparse.Action):
    """An old option that still works: it sets its new option's value and says so on stderr."""

    def __init__(self, option_strings: Sequence[str], dest: str, *, replacement: str,
                 **kwargs: Any) -> None:
        self.replacement = replacement
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: str | Sequence[Any] | None, option_string: str | None = None) -> None:
        """Set the value, and note the new spelling."""
        print(f"afterhours: {option_string} is deprecated; use {self.replacement}",
              file=sys.stderr)
        setattr(namespace, self.dest, self.const if self.nargs == 0 else values)


def global_values(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the global options give (field name -> value), for `command_line_settings`."""
    values: dict[str, Any] = {}
    if getattr(args, "policy", None):
        values["policy_file"] = Path(args.policy)
    if getattr(args, "state", None):
        values["state_url"] = state_url_for(str(args.state))
    if getattr(args, "log_format", None):
        values["log_format"] = args.log_format
    return values
