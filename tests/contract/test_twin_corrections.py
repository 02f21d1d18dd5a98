"""Where the twins disagreed with the vendors' specs, and were corrected: one test each.

The contract plugin validates these exchanges too; the assertions here pin the corrected
shapes to the spec's own schema so the reason for each correction stays visible.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from afterhours.contract.specs import Spec
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from afterhours.twins.zendesk_state import DEFAULT_BRAND_ID

pytestmark = pytest.mark.integration
AUTH = ("bot@example.com", "token")


def schema(spec: Spec, name: str) -> dict[str, Any]:
    found: dict[str, Any] = spec.document["components"]["schemas"][name]
    return found


def test_jira_comment_authors_are_user_details_without_locale(
    jira: JiraTwin, jira_spec: Spec
) -> None:
    # UserDetails forbids extra properties and has no locale; the twin used to send one.
    api = f"{jira.base_url}/rest/api/2"
    with httpx.Client(auth=AUTH) as client:
        created = client.post(f"{api}/issue", json={"fields": {
            "project": {"key": "ENG"}, "issuetype": {"name": "Bug"}, "summary": "Crash"}})
        key = created.json()["key"]
        comment = client.post(f"{api}/issue/{key}/comment", json={"body": "On it"}).json()
        me = client.get(f"{api}/myself").json()

    details = schema(jira_spec, "UserDetails")
    assert details["additionalProperties"] is False
    for who in (comment["author"], comment["updateAuthor"]):
        assert set(who) <= set(details["properties"])
        assert "locale" not in who
    # The full User that /myself answers does carry the locale.
    assert "locale" in schema(jira_spec, "User")["properties"]
    assert me["locale"] == "en_US"


def test_zendesk_tickets_belong_to_the_default_brand(
    zendesk: ZendeskTwin, zendesk_spec: Spec
) -> None:
    # Every account has a default brand; the spec's brand_id is a non-nullable integer and the
    # twin used to answer null.
    requester = zendesk.add_user("Alice", "alice@example.com")["id"]
    filed = zendesk.create_ticket(subject="Help", description="Broken", requester_id=requester)
    with httpx.Client(auth=(f"{AUTH[0]}/token", AUTH[1])) as client:
        shown = client.get(f"{zendesk.base_url}/api/v2/tickets/{filed['id']}.json").json()

    brand = schema(zendesk_spec, "TicketObject")["properties"]["brand_id"]
    assert (brand["type"], brand.get("nullable", False)) == ("integer", False)
    assert shown["ticket"]["brand_id"] == DEFAULT_BRAND_ID
