"""`afterhours report --since 30d [--out report.html] [--format html|csv|json]`: what happened
after hours in the period, from the state store and the policy; no Zendesk or Jira request."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from afterhours.adapters.state import StateStore
from afterhours.bootstrap import open_state
from afterhours.cli_grammar import AddCommand, add_db_alias
from afterhours.cli_help import WIDTH
from afterhours.clock import Clock, utc_now
from afterhours.errors import ConfigError
from afterhours.inspect.commands import EXIT_OK, span_argument
from afterhours.policy import Policy, load_policy
from afterhours.report.model import Facts, Report
from afterhours.settings import LocalSettings

FORMATS = ("html", "csv", "json")
EXTRA = "pip install 'afterhours[report]'"
DEFAULT_SPAN = "30d"
DEFAULT_HTML = Path("report.html")
STDOUT = "-"


def add_report(commands: argparse._SubParsersAction[argparse.ArgumentParser],
               add: AddCommand) -> None:
    """Register `report` on the cli's sub-commands (`add` makes it)."""
    report = add(commands, "report", "what happened after hours: one HTML file with charts,"
                 " or CSV or JSON", run_report, ("policy", "state", "log_format"))
    report.description = textwrap.fill(
        "Report a period from the state store: after-hours tickets by night, hour, category"
        " and priority; time to the daemon's first action and to the first reply against the"
        " policy's promises; SLA attainment and the backlog beyond it; escalations by ladder,"
        " level, target and outcome; Jira issues filed; the most repeated problems. HTML is"
        " one self-contained file (charts inline; it opens with no network); CSV and JSON hold"
        " the same figures. Reads the state and the policy only.", WIDTH)
    report.add_argument("--since", type=span_argument, default=span_argument(DEFAULT_SPAN),
                        metavar="SPAN", help="the period: the last SPAN (90m, 36h, 7d, 2w;"
                        f" default {DEFAULT_SPAN})")
    report.add_argument("--format", choices=FORMATS, default=None,
                        help="html (default; or as --out's suffix says), csv or json")
    report.add_argument("--out", metavar="FILE", help=f"where to write it; - for stdout"
                        f" (default: {DEFAULT_HTML} for html, stdout for csv and json)")
    add_db_alias(report)


def chosen_format(given: str | None, out: str | None) -> str:
    """--format, else the suffix of --out when it names one, else html."""
    if given is not None:
        return given
    suffix = Path(out).suffix.lstrip(".").lower() if out and out != STDOUT else ""
    return suffix if suffix in FORMATS else "html"


def _builder() -> tuple[Callable[[Facts, Policy], Report],
                        Callable[[StateStore, datetime, datetime], Facts]]:
    # Plotly comes with the `report` extra, which the daemon's image leaves
    # out: every other command runs without it.
    try:
        from afterhours.report.build import build_report  # noqa: PLC0415
        from afterhours.report.gather import gather  # noqa: PLC0415
    except ImportError as error:
        raise ConfigError(f"afterhours report needs {error.name}: {EXTRA}") from error
    return build_report, gather


def _renderer(kind: str) -> Callable[[Report], str]:
    if kind == "html":
        from afterhours.report.html import render_html  # noqa: PLC0415  (Plotly: see above)

        return render_html
    from afterhours.report.tabular import render_csv, render_json  # noqa: PLC0415

    return render_csv if kind == "csv" else render_json


def run_report(args: argparse.Namespace, *, clock: Clock = utc_now,
               stdout: TextIO | None = None) -> int:
    """`afterhours report`: gather the period's facts, build the figures, write them."""
    build_report, gather = _builder()
    settings = LocalSettings()
    policy = load_policy(settings.policy_file).policy
    since: timedelta = args.since
    state = open_state(settings, existing=True)
    try:
        end = clock()
        report = build_report(gather(state, end - since, end), policy)
    finally:
        state.close()
    kind = chosen_format(args.format, args.out)
    text = _renderer(kind)(report)
    out = args.out or (str(DEFAULT_HTML) if kind == "html" else STDOUT)
    if out == STDOUT:
        (stdout or sys.stdout).write(text)
        return EXIT_OK
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as error:  # a folder that is not there, a read-only place
        raise ConfigError(f"--out {out}: cannot write the report: {error.strerror}") from error
    print(f"afterhours: wrote the {kind} report of {report.start:%Y-%m-%d %H:%M} to"
          f" {report.end:%Y-%m-%d %H:%M} UTC to {out}", file=sys.stderr)
    return EXIT_OK
