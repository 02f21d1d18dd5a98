"""`afterhours demo`: the shipped policy (or --policy) run through one night on twins of its
own, in a scratch folder that is deleted after; the report on stdout."""

from __future__ import annotations

import argparse
import sys
import tempfile
from importlib import resources
from pathlib import Path

from afterhours.demo.night import DemoNight
from afterhours.demo.report import write_report
from afterhours.demo.targets import write_demo_policy
from afterhours.errors import ConfigError
from afterhours.logs import configure_logging
from afterhours.policy import load_policy

EXIT_OK = 0


def run_demo(args: argparse.Namespace) -> int:
    """`afterhours demo`: one accelerated night on the twins, then its report."""
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
