"""A pass's first step: read what changed in Zendesk since the last one.

The incremental export is drained into the state, page by page: each page's snapshots (each
stored ticket made due: afterhours.wakeups), its held malformed tickets and the cursor in one
transaction. Quarantined tickets are re-read first.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import structlog

from afterhours.clock import Clock
from afterhours.errors import LeaseLostError, ServiceError, StateError
from afterhours.ops.metrics import Metrics
from afterhours.outcomes import PassReport
from afterhours.quarantine import Intake

log = structlog.get_logger()


def read_changes(intake: Intake, clock: Clock, *, backfill: timedelta, metrics: Metrics,
                 stop: threading.Event, report: PassReport) -> set[int]:
    """Store every page of the export (starting `backfill` ago the first time); return the
    ids of the tickets it brought. A failed export is reported and logged, not raised:
    without fresh changes the stored tickets can still be escalated on time."""
    changed: set[int] = set()
    try:
        cursor = intake.state.export_cursor()
        start = clock() - backfill
        intake.retry_held(report, stop)  # quarantined tickets, before any planning
        while True:
            page = intake.desk.export_page(cursor, start)
            # Snapshots, held malformed tickets and the cursor: one transaction.
            report.tickets_read += intake.store_page(page, report)
            report.pages += 1
            changed.update(t.id for t in page.tickets)
            cursor = page.cursor
            if page.end_of_stream:
                metrics.export_caught_up()
                return changed
    except ServiceError as error:
        report.export_failed = True
        log.error("export.failed", error=str(error), status=error.status)
    except (StateError, LeaseLostError):  # no pass can be recorded: say so loudly
        raise
    except Exception:  # a surprise on the read side must not stop the escalations either
        report.export_failed = True
        log.exception("export.crashed")
    return changed
