"""The report's figures as CSV, JSON and one self-contained HTML file: the same numbers, and
customers' text made harmless in each."""

from __future__ import annotations

import csv
import io
import json
import sys

import pytest
from test_report import FACTS, POLICY

from afterhours.errors import ConfigError
from afterhours.report.build import build_report
from afterhours.report.command import _builder
from afterhours.report.html import CHART_CLASS, render_html
from afterhours.report.model import Report
from afterhours.report.tabular import render_csv, render_json


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report(FACTS, POLICY)


def test_csv_holds_every_figure_and_quotes_what_a_spreadsheet_would_run(report: Report) -> None:
    lines = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert {"volume", "response", "escalations", "jira", "problems"} == {
        line["section"] for line in lines}
    cells = {(line["figure"], line["row"], line["column"]): line["value"] for line in lines}
    assert cells["after_hours_by_night", "Fri 16 Jan", "tickets"] == "3"
    assert cells["sla_by_priority", "urgent", "attained %"] == "50.0"
    assert cells["similar_subjects", "'=HYPERLINK(\"x\") <script>", "tickets"] == "1"


def test_json_holds_the_same_figures(report: Report) -> None:
    data = json.loads(render_json(report))
    figures = data["sections"]["escalations"]["figures"]
    assert figures["escalations_by_outcome"]["rows"][0] == {
        "outcome": "acknowledged", "escalations": 1}
    assert data["sections"]["volume"]["headline"]["after-hours tickets"] == 4


def test_html_is_one_file_with_a_chart_per_figure_and_customer_text_escaped(
        report: Report) -> None:
    page = render_html(report)
    charted = [t for t in report.tables() if t.chart != "table" and t.rows]
    assert page.count(f'class="{CHART_CLASS}"') == len(charted) >= 10
    assert '"x") <script>' not in page  # neither in a table nor in a chart's data
    assert "=HYPERLINK(&quot;x&quot;) &lt;script&gt;" in page
    assert 'src="http' not in page  # nothing is fetched on opening
    assert "<link" not in page


def test_without_the_report_extra_the_command_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "afterhours.report.build", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"pip install 'afterhours\[report\]'"):
        _builder()
