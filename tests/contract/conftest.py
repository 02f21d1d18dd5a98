"""Fixtures of the contract tests: the specs (or a skip that says where they were looked for)."""

from __future__ import annotations

from pathlib import Path

import pytest

from afterhours.contract import specs
from contract.plugin import contract_plugin


@pytest.fixture(scope="session")
def specs_dir(request: pytest.FixtureRequest) -> Path:
    """The folder holding both spec files; skips the test when they are absent."""
    plugin = contract_plugin(request.config)
    if not plugin.active:
        pytest.skip(plugin.skip_reason())
    return plugin.specs_dir


@pytest.fixture(scope="session")
def zendesk_spec(specs_dir: Path) -> specs.Spec:
    """Zendesk's Support API spec, loaded once."""
    return specs.load_zendesk(specs_dir)


@pytest.fixture(scope="session")
def jira_spec(specs_dir: Path) -> specs.Spec:
    """Jira Cloud's platform spec, loaded once."""
    return specs.load_jira(specs_dir)
