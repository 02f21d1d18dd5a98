"""The shipped spec subset: derived from the full specs, complete, and validating as they do."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest

from afterhours.adapters.jira import JiraIssueTracker
from afterhours.contract import specs, subset
from afterhours.contract.report import AFTERHOURS_ENDPOINTS
from afterhours.contract.validate import check
from afterhours.domain.actions import CreateJiraIssue, LinkJiraIssue
from afterhours.retrying import RetryPolicy
from afterhours.twins._http import Exchange
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from contract.test_validator import exchange
from factories import issue_text

REGENERATE = "python -m afterhours.contract.subset"


@pytest.fixture(scope="module")
def full_dir(request: pytest.FixtureRequest) -> Path:
    """The full vendor specs; skips when only the shipped subset is here."""
    found = specs.full_specs_dir(request.config.rootpath)
    if found is None:
        pytest.skip(f"the full specs are not here ({specs.ENV_VAR} unset or without them, no "
                    f"../shared/specs): nothing to derive the subset from or compare it with")
    return found


def test_the_shipped_subset_is_exactly_what_the_script_derives(full_dir: Path) -> None:
    derived = subset.rendered_subsets(full_dir)
    for name, text in derived.items():
        shipped = (specs.SUBSET_DIR / name).read_text(encoding="utf-8")
        assert shipped == text, (
            f"{specs.SUBSET_DIR / name} differs from what {full_dir} and the endpoints in use "
            f"give: run `{REGENERATE}` and commit the result")


def test_the_subset_names_its_source_and_sources_md_records_it() -> None:
    sources = (specs.SUBSET_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for service, (full_name, subset_name) in specs.FILE_NAMES.items():
        info = specs.load_document(specs.SUBSET_DIR / subset_name)["info"]
        derived_from = info["x-derived-from"]
        assert (derived_from["file"], derived_from["script"]) == (full_name, subset.SCRIPT)
        assert derived_from["sha256"] in sources, service


@pytest.mark.parametrize(("service", "endpoint"), AFTERHOURS_ENDPOINTS)
def test_every_endpoint_afterhours_uses_is_in_the_subset(service: str, endpoint: str) -> None:
    method, path = endpoint.split(" ", 1)
    subset_name = specs.FILE_NAMES[service][1]
    paths = specs.load_document(specs.SUBSET_DIR / subset_name)["paths"]
    assert method.lower() in paths.get(path, {}), f"run `{REGENERATE}`"


def test_every_twin_route_the_full_spec_knows_is_in_the_subset(full_dir: Path) -> None:
    for service, (full_name, subset_name) in specs.FILE_NAMES.items():
        full = specs.load_document(full_dir / full_name)["paths"]
        kept = specs.load_document(specs.SUBSET_DIR / subset_name)["paths"]
        for method, route in subset.served(service):
            known = {p for p, item in full.items()
                     if method.lower() in item and subset.may_match(p, route)}
            assert all(method.lower() in kept.get(p, {}) for p in known), (service, route)


def _samples() -> list[Exchange]:
    """Exchanges of test_validator.py: allowances, violations, unknown and missing paths."""
    twin = ZendeskTwin()
    requester = twin.add_user("Alice", "alice@example.com")["id"]
    ticket = twin.create_ticket(subject="Help", description="Broken", requester_id=requester)
    page = {"tickets": [ticket], "after_cursor": "x", "after_url": None, "before_cursor": None,
            "before_url": None, "end_of_stream": True}
    link = {"globalId": "zendesk:acme:ticket:1", "relationship": "Zendesk ticket",
            "application": {"type": "com.zendesk", "name": "Zendesk"},
            "object": {"url": "https://acme.zendesk.com/agent/tickets/1", "title": "ZD #1"}}
    linked = {"id": 10000, "self": "https://x/rest/api/2/issue/ENG-1/remotelink/10000"}
    return [
        exchange("PUT", f"/api/v2/tickets/{ticket['id']}.json",
                 {"ticket": {"id": ticket["id"], "priority": "urgent", "additional_tags": ["p1"],
                             "comment": {"body": "note", "public": False}}},
                 answer={"ticket": ticket}),
        exchange("PUT", "/api/v2/tickets/1.json", {"ticket": {"additonal_tags": ["p1"]}},
                 answer={"ticket": ticket}),
        exchange("GET", "/api/v2/incremental/tickets/cursor.json", answer=page,
                 query={"start_time": ["0"], "include": ["metric_set"]}),
        exchange("GET", "/api/v2/tickets/1.json", answer={"ticket": ticket | {"status": None}}),
        exchange("GET", "/api/v2/tickets/1/nonsense.json"),
        exchange("GET", "/api/v2/business_hours/schedules.json"),
        exchange("GET", "/api/v2/groups/1.json", headers={}, status=404,
                 answer={"error": "RecordNotFound"}),
        exchange("POST", "/rest/api/2/issue/ENG-1/remotelink", link, status=201, answer=linked),
        exchange("POST", "/rest/api/2/issue/ENG-1/remotelink",
                 link | {"object": {"url": "https://acme.zendesk.com/agent/tickets/1"}},
                 status=201, answer=linked),
        exchange("POST", "/rest/api/3/issue", {"fields": "x"}, status=201,
                 answer={"id": "10000", "key": "ENG-1", "self": "https://x/rest/api/3/issue/1"}),
    ]


def _traffic(zendesk: ZendeskTwin, jira: JiraTwin) -> list[Exchange]:
    """Real exchanges: HTTP to the Zendesk twin, the Jira adapter to the Jira twin."""
    requester = zendesk.add_user("Bob", "bob@example.com")["id"]
    ticket = zendesk.create_ticket(subject="Crash", description="On export",
                                   requester_id=requester)["id"]
    token = base64.b64encode(b"bot@example.com/token:x").decode()
    with httpx.Client(base_url=zendesk.base_url,
                      headers={"authorization": f"Basic {token}"}) as client:
        for path in (f"/api/v2/tickets/{ticket}.json", f"/api/v2/tickets/{ticket}/comments.json",
                     "/api/v2/groups.json", "/api/v2/ticket_fields.json",
                     f"/api/v2/users/{requester}.json", "/api/v2/users/search.json?query=bob",
                     "/api/v2/incremental/tickets/cursor.json?start_time=0"):
            client.get(path).raise_for_status()
        client.put(f"/api/v2/tickets/{ticket}.json",
                   json={"ticket": {"priority": "high"}}).raise_for_status()
    tracker = JiraIssueTracker(jira.base_url, "bot@example.com", "token",
                               ticket_namespace="acme.zendesk.com", retry=RetryPolicy.disabled())
    try:
        issue = tracker.create_issue(CreateJiraIssue(
            ticket, "ENG", "Bug", "Crash", issue_text("On export", ticket), ("zendesk",)))
        tracker.link_issue(LinkJiraIssue(ticket, issue.key, "https://acme.zendesk.com/agent/"
                                         f"tickets/{ticket}", f"Zendesk #{ticket}"))
    finally:
        tracker.close()
    recorded: list[Exchange] = []
    for twin in (zendesk, jira):
        with twin.server.lock:
            recorded += twin.server.exchanges
    return recorded


def test_the_subset_validates_real_and_sample_exchanges_as_the_full_spec_does(
    full_dir: Path, zendesk: ZendeskTwin, jira: JiraTwin
) -> None:
    zendesk.server.record_exchanges = jira.server.record_exchanges = True
    exchanges = _samples() + _traffic(zendesk, jira)
    full = {"zendesk": specs.load_zendesk(full_dir), "jira": specs.load_jira(full_dir)}
    shipped = {"zendesk": specs.load_zendesk(specs.SUBSET_DIR),
               "jira": specs.load_jira(specs.SUBSET_DIR)}
    assert shipped["zendesk"].path.name == specs.ZENDESK_SUBSET_FILE
    compared: list[Any] = []
    for one in exchanges:
        service = "jira" if one.request.path.startswith("/rest/") else "zendesk"
        expected = check(full[service], one)
        assert check(shipped[service], one) == expected, one.request
        compared.append(expected)
    # Both kinds were compared: clean exchanges and ones with violations.
    assert len(compared) >= 20
    assert any(c.violations for c in compared)
    assert any(c.request_validated and not c.violations for c in compared)


def test_the_closure_follows_refs_transitively_and_discriminator_mappings() -> None:
    schemas = {"A": {"discriminator": {"mapping": {"b": "#/components/schemas/B", "c": "C"}}},
               "B": {"example": {"discriminator": "not a schema"}},
               "C": {"$ref": "#/components/schemas/D"}, "D": {}, "Unused": {}}
    reached = subset._components({"components": {"schemas": schemas}},
                                 [{"$ref": "#/components/schemas/A"}])
    assert sorted(reached["schemas"]) == ["A", "B", "C", "D"]


@pytest.mark.parametrize(("spec_path", "twin_path", "expected"), [
    ("/api/v2/tickets/{ticket_id}", "/api/v2/tickets/{id}", True),
    ("/api/v2/tickets/show_many", "/api/v2/tickets/{id}", True),  # the twin's {id} takes it
    ("/api/v2/tickets/{ticket_id}", "/api/v2/tickets/show_many", True),
    ("/api/v2/tickets/{ticket_id}/tags", "/api/v2/tickets/{id}", False),
    ("/rest/api/3/project/type/{key}", "/rest/api/3/project/{key}/versions", True),
    ("/api/v2/users/me", "/api/v2/users/search", False),
])
def test_a_twin_route_keeps_every_spec_path_openapi_core_could_match(
    spec_path: str, twin_path: str, expected: bool
) -> None:
    assert subset.may_match(spec_path, twin_path) is expected
