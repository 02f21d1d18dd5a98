"""The demo's targets: the shipped policy with PagerDuty, e-mail and Slack Web API channels
on its after-hours P1 ladder, and without the e-mail one where aiosmtpd (a development
dependency, absent from the container image) is not installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from afterhours.demo import targets
from afterhours.policy import parse_policy

pytestmark = pytest.mark.integration
SHIPPED = (Path(__file__).parents[2] / "config" / "policy.yaml").read_text(encoding="utf-8")


def test_the_demo_policy_adds_three_targets_to_the_p1_ladder() -> None:
    policy = parse_policy(targets.with_targets(SHIPPED))
    kinds = {name: c.type for name, c in policy.channels.items()}
    assert {kinds[targets.PAGER], kinds[targets.MAIL], kinds[targets.ROOM]} == {
        "pagerduty", "email", "slack"}
    (ladder,) = [r for r in policy.escalations.rules if r.name == targets.LADDER]
    assert [level.notify for level in ladder.levels] == [
        targets.PAGER, None, targets.ROOM, targets.MAIL]


def test_without_aiosmtpd_the_demo_goes_without_mail(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(targets, "find_spec", lambda name: None)
    policy = parse_policy(targets.write_demo_policy(SHIPPED, tmp_path).read_text())
    assert targets.MAIL not in policy.channels
    twins = targets.TargetTwins()
    assert twins.smtp is None
    twins.start(policy)
    try:
        assert not any("SMTP" in name for name in twins.environment())
        assert "smtp_url" not in twins.settings()
    finally:
        twins.stop()


def test_the_cli_starts_without_importing_the_smtp_twin() -> None:
    code = "import sys, afterhours.cli; sys.exit('aiosmtpd' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], check=False)  # noqa: S603  (ours)
    assert done.returncode == 0
