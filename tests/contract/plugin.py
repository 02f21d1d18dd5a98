"""The contract layer as a pytest plugin: every twin records, every exchange is validated.

Each twin started during the session records its exchanges (`TwinServer.start` is wrapped for
the session: the integration tests build twins in their own fixtures). After each test's call,
the exchanges recorded so far are validated against the vendors' specs; a violation fails the
test that produced it (a module-scoped fixture's traffic is charged to the first test using it).
The contract report is printed at the end of the session.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from afterhours.contract import specs
from afterhours.contract.report import Tally, Violation
from afterhours.contract.validate import check
from afterhours.twins._http import TwinServer

# The twins with a published spec; the chat-webhook twin has none.
SPEC_LOADERS: dict[str, Callable[[Path], specs.Spec]] = {
    "zendesk": specs.load_zendesk, "jira": specs.load_jira}


def _serving(server: TwinServer) -> bool:
    try:
        server.base_url  # noqa: B018  (raises once the server has stopped)
    except RuntimeError:
        return False
    return True


class ContractPlugin:
    """Session state: the running twins, the tally, where the specs are."""

    def __init__(self, specs_dir: Path) -> None:
        self.specs_dir = specs_dir
        self.missing = specs.missing_files(specs_dir)
        self.tally = Tally()
        # Strong references: a twin a test starts and drops must still be drained.
        self._servers: list[TwinServer] = []
        self._patch = pytest.MonkeyPatch()

    @property
    def active(self) -> bool:
        """True when both spec files are there."""
        return not self.missing

    def skip_reason(self) -> str:
        """Why contract checks cannot run (for skips and the report)."""
        names = ", ".join(p.name for p in self.missing)
        return (f"contract: spec files not found in {self.specs_dir} ({names}); set "
                f"{specs.ENV_VAR} or check out the specs beside the repository")

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not self.active:
            return
        original = TwinServer.start
        servers = self._servers

        def start(server: TwinServer, port: int = 0) -> str:
            if server.name in SPEC_LOADERS:
                server.record_exchanges = True
                servers.append(server)
            return original(server, port)

        self._patch.setattr(TwinServer, "start", start)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self._patch.undo()
        if self.active and self.drain("(session teardown)"):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def drain(self, test: str) -> list[Violation]:
        """Validate every exchange recorded since the last drain; return the violations."""
        found: list[Violation] = []
        for server in list(self._servers):
            with server.lock:
                exchanges, server.exchanges[:] = list(server.exchanges), []
            spec = SPEC_LOADERS[server.name](self.specs_dir)
            for exchange in exchanges:
                found += self.tally.add(test, check(spec, exchange))
            if not _serving(server):
                self._servers.remove(server)  # stopped: nothing more will come
        return found

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        try:
            result = yield
        except BaseException as error:
            # The test failed on its own; its violations still belong in its report.
            for violation in self._drain_for(item):
                error.add_note(f"contract violation: {violation}")
            raise
        violations = self._drain_for(item)
        if violations:
            lines = "\n".join(f"  {v}" for v in violations)
            raise AssertionError(f"contract violations against the vendors' specs:\n{lines}")
        return result

    def _drain_for(self, item: pytest.Item) -> list[Violation]:
        return self.drain(item.nodeid) if self.active else []

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.section("contract report")
        if not self.active:
            terminalreporter.write_line(self.skip_reason())
            return
        terminalreporter.write_line(f"specs: {self.specs_dir}: {specs.describe(self.specs_dir)}")
        for line in self.tally.lines():
            terminalreporter.write_line(line)


def pytest_configure(config: pytest.Config) -> None:
    """Register the session's ContractPlugin (also reachable via `contract_plugin`)."""
    plugin = ContractPlugin(specs.find_specs_dir(config.rootpath))
    config.pluginmanager.register(plugin, "afterhours-contract")


def contract_plugin(config: pytest.Config) -> ContractPlugin:
    """The session's plugin instance."""
    plugin = config.pluginmanager.get_plugin("afterhours-contract")
    assert isinstance(plugin, ContractPlugin)
    return plugin


__all__ = ["ContractPlugin", "contract_plugin"]
