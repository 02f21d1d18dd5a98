"""The report of the demo night, opened from its file in headless Chromium: every chart drew
its bars, the console has no error, and nothing was fetched from the network."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from chromium import console_errors, screenshot
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from afterhours.demo.night import END, DemoNight
from afterhours.policy import load_policy
from afterhours.report.build import build_report
from afterhours.report.gather import gather
from afterhours.report.html import CHART_CLASS, render_html

POLICY = load_policy(Path(__file__).parents[2] / "config" / "policy.yaml").policy


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    with DemoNight(POLICY, folder / "state.sqlite3") as night:
        night.run()
        report = build_report(gather(night.service.state, END - timedelta(days=2),
                                     END + timedelta(hours=10)), POLICY)
    page = folder / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    return page


def drawn(driver: webdriver.Chrome) -> int:
    """How many charts Plotly has drawn, bars and all."""
    script = (f"return [...document.querySelectorAll('.{CHART_CLASS}')].filter(c =>"
              " c.querySelector('svg.main-svg') && c.querySelectorAll('g.point path').length"
              " > 0).length")
    return int(driver.execute_script(script))


def test_every_chart_of_the_report_renders_offline(browser: webdriver.Chrome,
                                                   report_file: Path) -> None:
    browser.get(report_file.as_uri())
    charts = browser.find_elements(By.CLASS_NAME, CHART_CLASS)
    assert len(charts) >= 12
    WebDriverWait(browser, 30).until(lambda d: drawn(d) == len(charts))
    for section in ("volume", "response", "escalations", "jira", "problems"):
        assert browser.find_element(By.ID, section).is_displayed()
    # Everything the page needs is in the file: the browser asked the network for nothing.
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert fetched == []
    assert console_errors(browser) == []
    shot = screenshot(browser, "report")
    assert shot.stat().st_size > 50_000
