"""The report's figures as JSON (one object: the period, each section's headline and tables)
and CSV (one tidy table: figure, row, column, value), the same numbers the HTML draws."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from afterhours.report.model import Cell, Report

CSV_COLUMNS = ("section", "figure", "row", "column", "value")
# A cell a spreadsheet would run as a formula: customers write subjects, so text starting
# with one of these is written with a quote first (OWASP's advice on CSV injection).
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def report_data(report: Report) -> dict[str, Any]:
    """The report as plain data."""
    return {
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "time_zone": report.time_zone,
        "sections": {
            section.name: {
                "title": section.title,
                "headline": dict(section.headline),
                "figures": {t.name: {"title": t.title, "columns": list(t.columns),
                                     "rows": t.records(), "note": t.note}
                            for t in section.tables},
            }
            for section in report.sections
        },
    }


def render_json(report: Report) -> str:
    """The report as JSON text."""
    return json.dumps(report_data(report), indent=2, ensure_ascii=False) + "\n"


def render_csv(report: Report) -> str:
    """Every figure as rows of one CSV: each value with its section, figure, row (the value
    of the figure's first column) and column; the headlines as figure `headline`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for section in report.sections:
        for label, value in section.headline:
            writer.writerow((section.name, "headline", "", label, _inert(value)))
        for table in section.tables:
            for row in table.rows:
                for column, value in zip(table.columns[1:], row[1:], strict=True):
                    writer.writerow((section.name, table.name, _inert(row[0]), column,
                                     _inert(value)))
    return out.getvalue()


def _inert(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value
