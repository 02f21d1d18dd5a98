"""What the browser tests share: the console's errors, and full-page screenshots kept in
artifacts/browser/ (ignored by git) for a person to look at."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from selenium import webdriver

ARTIFACTS = Path(__file__).parents[2] / "artifacts" / "browser"


def console_errors(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    """The console's errors since it was last read (SEVERE: errors, failed loads)."""
    entries: list[dict[str, Any]] = driver.get_log("browser")
    return [e for e in entries if e.get("level") == "SEVERE"]


def screenshot(driver: webdriver.Chrome, name: str) -> Path:
    """The whole page, beyond the window too, as a PNG in artifacts/browser/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 16000),
                 "scale": 1}})
    path = ARTIFACTS / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path
