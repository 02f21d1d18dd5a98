"""`afterhours check`: the policy validated and summed up, as text or JSON; with --live the
channels, groups, agents and Jira projects it names reached too (inspect/live_command.py)."""

from __future__ import annotations

import argparse
import json
import sys

from afterhours.adapters.meaning import MeaningModelError
from afterhours.errors import PolicyError
from afterhours.inspect.live_command import run_live_check
from afterhours.logs import configure_logging
from afterhours.meanings import check_meanings
from afterhours.policy import load_policy
from afterhours.policy.model import Policy
from afterhours.settings import LocalSettings

EXIT_OK, EXIT_USAGE = 0, 2


def run_check(args: argparse.Namespace) -> int:
    """`afterhours check`: validate the policy, and with --live reach what it names."""
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
    _note_missing_model(settings, policy)
    if args.live:
        return run_live_check(policy, sys.stdout, send_test=args.send_test)[0]
    return EXIT_OK


def _note_missing_model(settings: LocalSettings, policy: Policy) -> None:
    """Say so when the policy compares tickets by meaning and the model is not here: the
    policy is valid, but a daemon on this host would refuse it."""
    try:
        check_meanings(policy, settings.similarity_model)
    except MeaningModelError as missing:
        print(f"afterhours: note: a daemon here would refuse this policy: {missing}",
              file=sys.stderr)


def _print_json(value: object) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))
