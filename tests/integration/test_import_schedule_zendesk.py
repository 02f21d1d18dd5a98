"""Importing a Zendesk business-hours schedule: the twin over real HTTP, adapter and command."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from afterhours.adapters.zendesk_schedules import ScheduleChoiceError, ZenpyScheduleReader
from afterhours.cli import build_parser, main
from afterhours.errors import ConfigError, TransientError
from afterhours.policy import load_policy
from afterhours.retrying import RetryPolicy
from afterhours.twins.faults import FaultRule
from afterhours.twins.zendesk import ZendeskTwin

pytestmark = pytest.mark.integration

POLICY = Path(__file__).parents[2] / "config" / "policy.yaml"
MON, FRI, SAT = 1440, 5 * 1440, 6 * 1440
NINE_TO_FIVE = [(day * 1440 + 540, day * 1440 + 1020) for day in range(1, 6)]
SCHEDULES = "GET /api/v2/business_hours/schedules.json"
SHOW = "GET /api/v2/business_hours/schedules/{id}.json"
HOLIDAYS = "GET /api/v2/business_hours/schedules/{id}/holidays.json"


def reader_for(twin: ZendeskTwin, retry: RetryPolicy | None = None) -> ZenpyScheduleReader:
    return ZenpyScheduleReader(twin.base_url, "bot@example.com", "token",
                               retry=retry or RetryPolicy.disabled())


@pytest.fixture
def north_america(zendesk: ZendeskTwin) -> int:
    """Weekdays nine to five in Pacific time, a late Friday shift past midnight, two holidays."""
    schedule = zendesk.schedules.add_schedule(
        "North America", "Pacific Time (US & Canada)",
        [*NINE_TO_FIVE, (FRI + 22 * 60, SAT + 2 * 60)])
    zendesk.schedules.add_holiday(schedule["id"], "Winter break", date(2026, 12, 24),
                                  date(2026, 12, 27))
    zendesk.schedules.add_holiday(schedule["id"], "New Year's Day", date(2027, 1, 1))
    return int(schedule["id"])


@pytest.fixture
def settings_env(zendesk: ZendeskTwin, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read-only Zendesk settings pointing at the twin."""
    for name, value in {"ZENDESK_URL": zendesk.base_url, "ZENDESK_EMAIL": "bot@example.com",
                        "ZENDESK_TOKEN": "zd-secret-token", "LOG_FORMAT": "json"}.items():
        monkeypatch.setenv(f"AFTERHOURS_{name}", value)


def run_command(*argv: str) -> int:
    args = build_parser().parse_args(["import-schedule", *argv])
    code: int = args.command(args)
    return code


def test_the_only_schedule_is_read_with_its_holidays_in_the_documented_shapes(
    zendesk: ZendeskTwin, north_america: int
) -> None:
    reader = reader_for(zendesk)
    try:
        found = reader.read_schedule()
    finally:
        reader.close()
    assert set(found.schedule) == {"id", "name", "time_zone", "intervals", "created_at",
                                   "updated_at"}
    assert found.schedule["id"] == north_america
    assert found.schedule["time_zone"] == "Pacific Time (US & Canada)"
    assert found.schedule["intervals"][0] == {"start_time": MON + 540, "end_time": MON + 1020}
    assert [(h["name"], h["start_date"], h["end_date"]) for h in found.holidays] == [
        ("Winter break", "2026-12-24", "2026-12-27"),
        ("New Year's Day", "2027-01-01", "2027-01-01")]
    assert all(set(h) == {"id", "name", "start_date", "end_date"} for h in found.holidays)
    assert dict(zendesk.server.requests) == {SCHEDULES: 1, HOLIDAYS: 1}


def test_a_schedule_is_chosen_by_id_and_a_wrong_or_missing_choice_lists_them(
    zendesk: ZendeskTwin, north_america: int
) -> None:
    emea = zendesk.schedules.add_schedule("EMEA", "London", NINE_TO_FIVE)["id"]
    reader = reader_for(zendesk)
    try:
        assert reader.read_schedule(emea).schedule["name"] == "EMEA"
        assert reader.read_schedule(emea).holidays == []
        with pytest.raises(ScheduleChoiceError) as several:
            reader.read_schedule()
        with pytest.raises(ScheduleChoiceError) as unknown:
            reader.read_schedule(4242)
    finally:
        reader.close()
    assert str(several.value).startswith("Zendesk has 2 business-hours schedules; choose one")
    assert str(unknown.value).startswith("Zendesk has no business-hours schedule 4242")
    for listing in (str(several.value), str(unknown.value)):
        assert f"  {north_america}: North America (Pacific Time (US & Canada))" in listing
        assert f"  {emea}: EMEA (London)" in listing
    assert isinstance(several.value, ConfigError)


def test_an_account_without_schedules_is_a_clear_error(zendesk: ZendeskTwin) -> None:
    reader = reader_for(zendesk)
    try:
        with pytest.raises(ScheduleChoiceError, match="has no business-hours schedule to import"):
            reader.read_schedule()
    finally:
        reader.close()


def test_reads_go_through_the_retry_policy(zendesk: ZendeskTwin, north_america: int) -> None:
    waits: list[float] = []
    zendesk.server.faults.add(FaultRule("GET /api/v2/business_hours/*", error_rate=1.0))
    reader = reader_for(zendesk, RetryPolicy(attempts=3, sleep=waits.append))
    try:
        with pytest.raises(TransientError):
            reader.read_schedule(north_america)
    finally:
        reader.close()
    assert len(waits) == 2


def test_the_command_writes_a_block_the_policy_check_accepts(
    zendesk: ZendeskTwin, north_america: int, settings_env: None, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "schedule.yaml"
    assert run_command("--out", str(out)) == 0
    assert f"wrote schedule {north_america} to {out}" in capsys.readouterr().err
    block = out.read_text(encoding="utf-8")
    assert block.startswith('# Imported from Zendesk business-hours schedule "North America"')
    # As a lead would: the shipped policy with its schedule: block replaced by this one.
    policy = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    policy["schedule"] = yaml.safe_load(block)["schedule"]
    spliced = tmp_path / "policy.yaml"
    spliced.write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
    assert main(["check", str(spliced)]) == 0
    schedule = load_policy(spliced).policy.schedule
    assert schedule.time_zone == "America/Los_Angeles"
    assert schedule.holidays == [date(2026, 12, d) for d in (24, 25, 26, 27)] + [
        date(2027, 1, 1)]
    # The block alone, under `version: 1`, is a whole (if idle) policy too.
    minimal = tmp_path / "minimal.yaml"
    minimal.write_text("version: 1\n" + block, encoding="utf-8")
    assert main(["check", str(minimal)]) == 0


def test_the_command_prints_the_block_by_id_with_logs_kept_off_stdout(
    zendesk: ZendeskTwin, north_america: int, settings_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    zendesk.schedules.add_schedule("EMEA", "London", NINE_TO_FIVE)
    assert run_command("--id", str(north_america)) == 0
    printed = capsys.readouterr().out
    loaded = yaml.safe_load(printed)
    assert list(loaded) == ["schedule"]
    assert loaded["schedule"]["hours"]["fri"] == ["09:00-17:00", "22:00-24:00"]
    assert loaded["schedule"]["hours"]["sat"] == ["00:00-02:00"]


def test_the_command_never_overwrites_a_file_and_asks_nothing_of_zendesk_then(
    zendesk: ZendeskTwin, north_america: int, settings_env: None, tmp_path: Path,
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="already exists"):
        run_command("--out", str(policy))
    assert policy.read_text(encoding="utf-8") == "version: 1\n"
    assert not zendesk.server.requests


def test_the_command_reports_a_refused_read_and_exits_1(
    zendesk: ZendeskTwin, north_america: int, settings_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    zendesk.server.faults.add(FaultRule(SCHEDULES, error_rate=1.0, error_status=403))
    assert run_command() == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    # A 403 is not retried: the command says so at once instead of waiting.
    assert "cannot read the schedule from Zendesk: zendesk: 403" in captured.err
