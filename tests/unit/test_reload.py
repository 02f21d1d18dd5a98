"""Hot reload: a good edit takes over between passes, a bad one leaves the old policy in force."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from afterhours.adapters.ports import ExportPage
from afterhours.adapters.state import AuditRow, SqliteState
from afterhours.bootstrap import build_reloader
from afterhours.clock import ManualClock
from afterhours.policy import load_policy
from afterhours.reload import PolicyReloader
from afterhours.service import Service
from afterhours.settings import Settings

HEAD = "version: 1\nschedule:\n  time_zone: UTC\n  hours: {}\n"
OLD = HEAD + "routes:\n  - name: old-route\n    group: Support\n"
NEW = HEAD + "routes:\n  - name: new-route\n    group: Finance\n"
BROKEN = HEAD + "routes:\n  - name: new-route\n    gruop: Finance\n"  # line 7: a typo
NEEDS_A_HOOK = HEAD + "channels:\n  pager: {}\nroutes:\n  - name: page\n    notify: pager\n"


class IdleDesk:
    """A desk with nothing to export and nothing to update."""

    def export_page(self, cursor: str | None, start_time: datetime) -> ExportPage:
        return ExportPage((), "cursor-1", end_of_stream=True)

    def close(self) -> None:
        """Nothing to release."""


class Unused:
    """Stands in for the tracker and notifier, which reloading never touches."""

    def close(self) -> None:
        """Nothing to release."""


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(OLD, encoding="utf-8")
    return path


@pytest.fixture
def service(tmp_path: Path, policy_file: Path, clock: ManualClock) -> Iterator[Service]:
    service = Service(
        desk=IdleDesk(), tracker=Unused(), notifier=Unused(),  # type: ignore[arg-type]
        state=SqliteState(tmp_path / "state.sqlite3"), policy=load_policy(policy_file).policy,
        clock=clock,
    )
    yield service
    service.close()


@pytest.fixture
def reloader(service: Service, policy_file: Path) -> PolicyReloader:
    return PolicyReloader(service, load_policy(policy_file))


def audit_of(service: Service) -> list[AuditRow]:
    return [r for r in service.state.audit() if r.outcome.startswith("policy_")]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def route_names(service: Service) -> list[str]:
    return [r.name for r in service.policy.routes.rules]


def test_a_good_edit_takes_over_and_is_audited_with_its_hash(
    service: Service, reloader: PolicyReloader, policy_file: Path, clock: ManualClock
) -> None:
    policy_file.write_text(NEW, encoding="utf-8")
    with capture_logs() as logs:
        assert reloader.reload_if_changed() is True
    assert route_names(service) == ["new-route"]
    assert reloader.sha256 == sha256(NEW)
    [row] = audit_of(service)
    assert (row.outcome, row.ticket_id, row.at) == ("policy_reloaded", None, clock().isoformat())
    assert row.detail == {"sha256": sha256(NEW), "previous_sha256": sha256(OLD),
                          "trigger": "file_changed"}
    assert [(e["event"], e["sha256"]) for e in logs] == [("policy.reloaded", sha256(NEW))]


def test_a_broken_edit_keeps_the_old_policy_and_says_where_it_is_wrong(
    service: Service, reloader: PolicyReloader, policy_file: Path
) -> None:
    in_force = service.policy
    policy_file.write_text(BROKEN, encoding="utf-8")
    with capture_logs() as logs:
        assert reloader.reload_if_changed() is False
    assert service.policy is in_force
    assert reloader.sha256 == sha256(OLD)
    [event] = logs
    assert (event["event"], event["log_level"]) == ("policy.reload_failed", "error")
    [problem] = event["problems"]
    assert problem.startswith(f"{policy_file}:7:5: unknown field 'gruop': did you mean 'group'?")
    [row] = audit_of(service)
    assert row.outcome == "policy_reload_failed"
    assert row.detail["problems"] == [problem]
    assert row.detail["sha256"] == sha256(BROKEN)
    assert row.detail["in_force_sha256"] == sha256(OLD)


def test_a_broken_file_is_reported_once_not_on_every_pass(
    service: Service, reloader: PolicyReloader, policy_file: Path
) -> None:
    policy_file.write_text(BROKEN, encoding="utf-8")
    reloader.reload_if_changed()
    with capture_logs() as logs:
        assert reloader.reload_if_changed() is False
        assert reloader.reload_if_changed() is False
    assert logs == []
    assert len(audit_of(service)) == 1

    policy_file.write_text(NEW, encoding="utf-8")  # the lead fixes the typo
    assert reloader.reload_if_changed() is True
    assert route_names(service) == ["new-route"]
    assert [r.outcome for r in audit_of(service)] == ["policy_reload_failed", "policy_reloaded"]


def test_an_unchanged_file_does_nothing_even_when_touched(
    service: Service, reloader: PolicyReloader, policy_file: Path
) -> None:
    in_force = service.policy
    with capture_logs() as logs:
        assert reloader.reload_if_changed() is False
        os.utime(policy_file, ns=(0, 0))  # a new mtime, the same content
        assert reloader.reload_if_changed() is False
    assert logs == []
    assert audit_of(service) == []
    assert service.policy is in_force


def test_an_edit_that_keeps_the_mtime_and_size_is_still_seen(
    service: Service, reloader: PolicyReloader, policy_file: Path
) -> None:
    # cp -p, or two saves within one timestamp tick: the content decides, not the mtime.
    before = policy_file.stat()
    edited = OLD.replace("old-route", "new-route")
    assert len(edited) == len(OLD)
    policy_file.write_text(edited, encoding="utf-8")
    os.utime(policy_file, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert reloader.reload_if_changed() is True
    assert route_names(service) == ["new-route"]


def test_a_sighup_request_reloads_even_an_unchanged_file(
    service: Service, reloader: PolicyReloader, policy_file: Path
) -> None:
    mtime = policy_file.stat().st_mtime_ns
    reloader.request()
    assert reloader.reload_if_changed() is True
    assert policy_file.stat().st_mtime_ns == mtime
    [row] = audit_of(service)
    assert row.detail["trigger"] == "sighup"
    assert row.detail["sha256"] == row.detail["previous_sha256"] == sha256(OLD)
    assert reloader.reload_if_changed() is False  # one request, one reload


def test_a_sighup_request_reports_a_still_broken_file_again(
    service: Service, reloader: PolicyReloader, policy_file: Path
) -> None:
    policy_file.write_text(BROKEN, encoding="utf-8")
    reloader.reload_if_changed()
    reloader.request()
    with capture_logs() as logs:
        assert reloader.reload_if_changed() is False
    assert [(e["event"], e["trigger"]) for e in logs] == [("policy.reload_failed", "sighup")]
    assert [r.outcome for r in audit_of(service)] == ["policy_reload_failed"] * 2


def test_a_deleted_file_keeps_the_old_policy(
    service: Service, reloader: PolicyReloader, policy_file: Path
) -> None:
    in_force = service.policy
    policy_file.unlink()
    with capture_logs() as logs:
        assert reloader.reload_if_changed() is False
        assert reloader.reload_if_changed() is False
    assert service.policy is in_force
    [event] = logs
    assert event["problems"][0].startswith(f"{policy_file}:1:1: cannot read policy")
    [row] = audit_of(service)
    assert row.detail["sha256"] is None


def test_a_channel_without_a_webhook_is_refused_like_at_start_up(
    service: Service, policy_file: Path
) -> None:
    settings = Settings(
        zendesk_url="https://acme.zendesk.com", zendesk_email="bot@example.com",
        zendesk_token="zd", jira_url="https://acme.atlassian.net",
        jira_email="bot@example.com", jira_token="jira", webhooks={},
    )
    reloader = build_reloader(settings, service, load_policy(policy_file))
    in_force = service.policy
    policy_file.write_text(NEEDS_A_HOOK, encoding="utf-8")
    with capture_logs() as logs:
        assert reloader.reload_if_changed() is False
    assert service.policy is in_force
    [problem] = logs[0]["problems"]
    assert problem.startswith(f"{policy_file}: no webhook URL for policy channel(s) pager")
    assert audit_of(service)[0].outcome == "policy_reload_failed"


def test_run_forever_reloads_before_each_pass(
    service: Service, reloader: PolicyReloader, policy_file: Path
) -> None:
    seen: list[list[str]] = []

    def edit_then_reload() -> None:
        if len(seen) == 1:
            policy_file.write_text(NEW, encoding="utf-8")
        reloader.reload_if_changed()
        seen.append(route_names(service))
        if len(seen) == 3:
            service.stop.set()

    service.run_forever(0, before_pass=edit_then_reload)
    assert seen == [["old-route"], ["new-route"], ["new-route"]]


def test_an_oversized_file_is_refused_without_being_read_in_full(
    service: Service, reloader: PolicyReloader, policy_file: Path
) -> None:
    in_force = service.policy
    policy_file.write_text(OLD + "# padding\n" * 200_000, encoding="utf-8")  # about 2 MB
    with capture_logs() as logs:
        assert reloader.reload_if_changed() is False
        assert reloader.reload_if_changed() is False  # reported once, not on every pass
    assert service.policy is in_force
    [event] = logs
    [problem] = event["problems"]
    assert "the limit is 1,048,576 (1 MiB)" in problem
