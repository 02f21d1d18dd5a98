"""`afterhours config [--check]`: the effective settings, and whether each one is valid.

The daemon reads its settings through the same classes and validators at start, so what
`config --check` accepts, `run` accepts, and what it refuses, `run` refuses with the same words.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from pydantic import ValidationError
from pydantic_settings import SettingsError

from afterhours.adapters.meaning import MeaningModelError
from afterhours.bootstrap import check_policy
from afterhours.cli_grammar import add_output
from afterhours.errors import ConfigError, PolicyError
from afterhours.policy import load_policy
from afterhours.settings import Settings
from afterhours.settings_report import SettingView, settings_report

EXIT_OK, EXIT_USAGE = 0, 2


def add_config(parser: argparse.ArgumentParser) -> None:
    """The arguments of `afterhours config`."""
    parser.description = (
        "Print every setting the daemon reads: its value (secrets masked: a URL keeps its"
        " scheme and host) and where it comes from (command line, environment, file, default)."
        " --check validates every value (URL shapes, webhook URLs, non-empty tokens, a webhook"
        " for every channel of the policy) as `afterhours run` does at start, and exits 2"
        " naming each wrong variable, what is wrong and an example.")
    parser.add_argument("--check", action="store_true",
                        help="validate every setting; exit 2 naming each wrong one")
    add_output(parser, json_alias=False)
    parser.set_defaults(command=run_config)


def run_config(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """`afterhours config`: print the settings; with --check, exit 2 if any is wrong."""
    out = out or sys.stdout
    rows, problems = settings_report()
    if not problems:
        problems = _policy_problems()
    if args.output == "json":
        out.write(json.dumps({"ok": not problems, "settings": [r.as_json() for r in rows],
                              "problems": problems}, indent=2) + "\n")
    elif not args.check:
        _write_table(rows, out)
        if problems:
            out.write("\nproblems (`afterhours config --check` exits 2 on them):\n")
            out.writelines(f"  {problem}\n" for problem in problems)
    elif problems:
        print(f"afterhours: {len(problems)} setting(s) wrong:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
    else:
        out.write(f"settings ok ({len(rows)} read; `afterhours config` shows them)\n")
    return EXIT_USAGE if args.check and problems else EXIT_OK


def _policy_problems() -> list[str]:
    """What the daemon's start would refuse in the policy and settings together: a channel
    without a webhook. A policy that does not load is `afterhours check`'s to explain."""
    try:
        settings = Settings()
        check_policy(settings, load_policy(settings.policy_file).policy)
    except PolicyError:
        return ["AFTERHOURS_POLICY_FILE: the policy does not validate; `afterhours check`"
                " lists its problems"]
    except MeaningModelError as error:
        return [f"AFTERHOURS_SIMILARITY_MODEL: {error}"]
    except ConfigError as error:
        return [f"AFTERHOURS_WEBHOOKS: {error}"]
    except (ValidationError, SettingsError):  # reported by settings_report already
        return []
    return []


def _write_table(rows: list[SettingView], out: TextIO) -> None:
    width = max(len(r.variable) for r in rows) + 2
    value_width = min(max(len(r.value) for r in rows), 60) + 2
    out.write(f"{'VARIABLE':<{width}}{'VALUE':<{value_width}}SOURCE\n")
    for row in rows:
        out.write(f"{row.variable:<{width}}{row.value:<{value_width}}{row.source}\n")
