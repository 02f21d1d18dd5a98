"""After the demo night, `afterhours report` fills every section from that night's state, in
HTML, CSV and JSON alike."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from afterhours.cli import build_parser
from afterhours.cli_grammar import global_values
from afterhours.demo.night import END, DemoNight
from afterhours.errors import ConfigError
from afterhours.policy import load_policy
from afterhours.report.command import run_report
from afterhours.report.html import CHART_CLASS
from afterhours.settings import command_line_settings

pytestmark = pytest.mark.e2e
POLICY = Path(__file__).parents[2] / "config" / "policy.yaml"
MORNING = END + timedelta(hours=10)  # Sunday 09:00: the lead reads the night's report


@pytest.fixture(scope="module")
def night_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    state = tmp_path_factory.mktemp("night") / "state.sqlite3"
    with DemoNight(load_policy(POLICY).policy, state) as night:
        night.run()
    return state


def report(state: Path, *words: str) -> int:
    args = build_parser().parse_args(["report", "--state", str(state), "--policy", str(POLICY),
                                      *words])
    with command_line_settings(global_values(args)):
        return run_report(args, clock=lambda: MORNING)


def test_every_section_is_filled_from_the_night(night_state: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert report(night_state, "--since", "2d", "--format", "json", "--out", "-") == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    sections = data["sections"]
    assert list(sections) == ["volume", "response", "escalations", "jira", "problems"]
    for name, section in sections.items():
        filled = [f for f in section["figures"].values() if f["rows"]]
        assert filled, f"section {name} has no figure with rows"
    assert sections["volume"]["headline"]["after-hours tickets"] == 5
    assert sections["response"]["headline"]["tickets a person replied to"] == 2
    escalations = sections["escalations"]["figures"]
    assert {r["ladder"] for r in escalations["escalations_by_ladder"]["rows"]} == {
        "p1-after-hours", "reply-promise", "unresolved-24h"}
    assert any(r["target"].startswith("on call: ")
               for r in escalations["escalations_by_target"]["rows"])
    assert [r["issue"] for r in sections["jira"]["figures"]["jira_issues"]["rows"]] == ["ENG-1"]
    # As sync-back last saw it: the night's engineers never resolved it.
    [issue] = sections["jira"]["figures"]["jira_issues"]["rows"]
    assert issue["Jira status"] == "open"
    sla = {r["priority"]: r for r in sections["response"]["figures"]["sla_by_priority"]["rows"]}
    assert sla["urgent"]["missed"] == 1  # the outage: the daemon recorded its promise missed


def test_html_and_csv_hold_the_same_figures(night_state: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "report.html"
    assert report(night_state, "--since", "2d", "--out", str(page)) == 0
    text = page.read_text(encoding="utf-8")
    assert text.count(f'class="{CHART_CLASS}"') >= 12
    assert "wrote the html report" in capsys.readouterr().err
    assert report(night_state, "--since", "2d", "--out", str(tmp_path / "r.csv")) == 0
    lines = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8"))))
    night = [r for r in lines if r["figure"] == "after_hours_by_night"]
    assert night == [{"section": "volume", "figure": "after_hours_by_night",
                      "row": "Fri 20 Nov", "column": "tickets", "value": "5"}]


def test_a_place_that_cannot_be_written_is_named(night_state: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--out .*/missing/r.html: cannot write the report"):
        report(night_state, "--out", str(tmp_path / "missing" / "r.html"))
