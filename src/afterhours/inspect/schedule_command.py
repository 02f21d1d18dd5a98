"""`afterhours import-schedule [--id ID] [--out FILE]`: a policy `schedule:` block from Zendesk.

Reads one business-hours schedule and its holidays (GET only) and prints the block, or writes
it to a new file; the lead pastes it into the policy. Settings are the read-only Zendesk ones
explain and replay use (AFTERHOURS_ZENDESK_URL, _EMAIL, _TOKEN).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from afterhours.adapters.zendesk_schedules import ZenpyScheduleReader
from afterhours.cli_grammar import AddCommand
from afterhours.errors import ConfigError, ServiceError
from afterhours.inspect.sources import PROMPT_RETRY, ZendeskReadSettings
from afterhours.logs import configure_logging
from afterhours.policy.import_schedule import schedule_yaml

# The cli's exit codes (cli.py will import this module, so they cannot be imported from there).
EXIT_OK, EXIT_FAILED = 0, 1


def add_import_schedule(commands: argparse._SubParsersAction[argparse.ArgumentParser],
                        add: AddCommand) -> None:
    """Register `import-schedule` on the cli's sub-commands (`add` makes it)."""
    parser = add(commands, "import-schedule", "print a policy schedule: block from a Zendesk"
                 " business-hours schedule", run_import_schedule, ("log_format",))
    parser.description = (
        "Read a business-hours schedule and its holidays from Zendesk and print "
        "them as a policy schedule: block (time zone mapped to IANA, hours per weekday, "
        "holiday ranges written out as dates), to paste into the policy. Changes nothing.")
    parser.add_argument("--id", dest="schedule_id", type=int, metavar="ID",
                        help="the schedule's id (default: the account's only schedule)")
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help="write the block to FILE, which must not exist yet")


def run_import_schedule(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """`afterhours import-schedule`: read the schedule, print or write its YAML block."""
    out = out or sys.stdout
    target: Path | None = args.out
    # Checked before any request: a typo must not overwrite the policy itself.
    if target is not None and target.exists():
        raise ConfigError(f"{target} already exists; give a new file (the block is not a "
                          "whole policy)")
    settings = ZendeskReadSettings()
    # The YAML is the output; the client's logs only matter when something goes wrong.
    configure_logging(settings.log_format, "debug" if settings.log_level == "debug" else "warning")
    reader = ZenpyScheduleReader(
        str(settings.zendesk_url), settings.zendesk_email,
        settings.zendesk_token.get_secret_value(), timeout=settings.http_timeout,
        retry=PROMPT_RETRY,
    )
    try:
        found = reader.read_schedule(args.schedule_id)
    except ServiceError as error:
        print(f"afterhours: cannot read the schedule from Zendesk: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        reader.close()
    text = schedule_yaml(found.schedule, found.holidays)
    if target is None:
        out.write(text)
        return EXIT_OK
    try:
        with target.open("x", encoding="utf-8") as file:
            file.write(text)
    except OSError as error:
        raise ConfigError(f"cannot write {target}: {error}") from None
    print(f"afterhours: wrote schedule {found.schedule.get('id')} to {target}", file=sys.stderr)
    return EXIT_OK
