"""One pass of the daemon against Prism mocks of both official specs: no request rejected.

The mocks answer with the vendors' examples and keep no state; what matters is that Prism's
validator accepts every request afterhours sends. Skipped unless Node and Prism are installed
(`/work/shared/specs/run_mocks.sh install`, or $PRISM_DIR pointing at such an install).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from afterhours.adapters.jira import JiraIssueTracker
from afterhours.bootstrap import build_service
from afterhours.contract import specs
from afterhours.domain.actions import CreateJiraIssue, LinkJiraIssue
from afterhours.policy import load_policy
from afterhours.retrying import RetryPolicy
from afterhours.settings import Settings
from afterhours.twins.chat import ChatTwin
from contract.prism import Mock, derive, prism_binary, running_mocks
from factories import issue_text

pytestmark = pytest.mark.prism
POLICY = Path(__file__).parents[2] / "config" / "policy.yaml"


@pytest.fixture(scope="module")
def mocks(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Mock]]:
    prism = prism_binary()
    if prism is None:
        pytest.skip("prism: Node or Prism not installed; run /work/shared/specs/run_mocks.sh "
                    "install (or set PRISM_DIR)")
    # Prism serves the full specs through their own derive_specs.py; the shipped subset is
    # for the validator only.
    full = specs.full_specs_dir(request.config.rootpath)
    if full is None or not (full / "derive_specs.py").is_file():
        pytest.skip(f"prism: needs the full specs with derive_specs.py (../shared/specs or "
                    f"{specs.ENV_VAR}); only the shipped subset is here")
    folder = tmp_path_factory.mktemp("prism")
    started = time.monotonic()
    derive(full, folder)
    with running_mocks(prism, folder) as running:
        print(f"prism: derived and started in {time.monotonic() - started:.1f}s")
        yield running


def test_one_daemon_pass_sends_only_requests_the_specs_accept(
    mocks: dict[str, Mock], chat: ChatTwin, tmp_path: Path
) -> None:
    policy = load_policy(POLICY).policy
    settings = Settings(
        zendesk_url=mocks["zendesk"].url, zendesk_email="bot@example.com",
        zendesk_token=SecretStr("not-a-secret"), jira_url=mocks["jira"].url,
        jira_email="bot@example.com", jira_token=SecretStr("not-a-secret"),
        webhooks={c: SecretStr(chat.webhook_url(c)) for c in policy.channels},
        state_db=tmp_path / "state.sqlite3", backfill_hours=24 * 365 * 30,
    )
    service = build_service(settings, policy, retry=RetryPolicy.disabled())
    try:
        report = service.run_pass()
    finally:
        service.close()
    # The mock's only example ticket is no product bug, so the pass files nothing in Jira: the
    # Jira side is driven through the same adapter the daemon uses, as a bug route would.
    tracker = JiraIssueTracker(mocks["jira"].url, "bot@example.com", "not-a-secret",
                               ticket_namespace="acme.zendesk.com", retry=RetryPolicy.disabled())
    try:
        issue = tracker.create_issue(CreateJiraIssue(
            35436, "ENG", "Bug", "Export crashes (Zendesk #35436)",
            issue_text("Steps: press Export.", 35436),
            ("zendesk-35436", "from-zendesk")))
        tracker.link_issue(LinkJiraIssue(35436, issue.key, "https://acme.zendesk.com/agent/"
                                         "tickets/35436", "Zendesk #35436"))
    finally:
        tracker.close()
    time.sleep(0.5)  # Prism writes its log asynchronously

    received = {name: mock.received() for name, mock in mocks.items()}
    assert received["zendesk"], "the daemon never reached the Zendesk mock"
    assert received["jira"], "the Jira adapter never reached the Jira mock"
    rejected = {name: mock.request_errors() for name, mock in mocks.items()}
    assert rejected == {"zendesk": [], "jira": []}, (report, received)
