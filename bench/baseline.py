"""The naive baseline: what a small script polling Zendesk does for the same tickets.

It searches the tickets updated since its last poll, then reads each one (GET) and updates it
once (PUT: priority, group, tags and the after-hours acknowledgement together), filing one Jira
issue per bug first so the issue's tag goes out in that same update. Plain httpx over
keep-alive connections, no export, no batching, no escalations: the SOP's triage only, with
its words, so it does the same writes the daemon's first pass does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from bench.world import World

P1_WORDS = ("outage", "down", "security", "breach", "data loss", "urgent")
BILLING_WORDS = ("invoice", "billing", "refund", "charge", "payment", "subscription")
BUG_WORDS = ("bug", "crash", "crashes", "error", "broken", "doesn't work", "exception")
ACK = ("Thank you for contacting us. Our support desk is closed right now; your request is "
       "safely in our queue.")


@dataclass(frozen=True)
class PollFigures:
    """One poll of the baseline: tickets it handled, Jira issues it filed, seconds it took."""

    tickets: int
    bugs: int
    wall: float


def triage(ticket: dict[str, Any], groups: dict[str, int]) -> tuple[dict[str, Any], bool]:
    """The update the SOP asks for, and whether the ticket is a bug for Jira."""
    text = f"{ticket['subject']} {ticket['description']}".casefold()
    p1 = any(word in text for word in P1_WORDS)
    changes: dict[str, Any] = {"comment": {"body": ACK, "public": True}}
    tags = ["p1"] if p1 else ["p2"]
    if p1:
        changes["priority"] = "urgent"
    elif ticket["priority"] is None:
        changes["priority"] = "normal"
    bug = False
    if any(word in text for word in BILLING_WORDS):
        group, tags = "Finance", [*tags, "billing"]
    elif any(word in text for word in BUG_WORDS):
        group, tags, bug = "Engineering", [*tags, "product_bug"], True
    else:
        group, tags = "Support", [*tags, "general_inquiry"]
    changes.update(group_id=groups[group], additional_tags=tags)
    return changes, bug


class NaiveBaseline:
    """The baseline's clients for one world's Zendesk and Jira twins."""

    def __init__(self, world: World) -> None:
        auth = ("bot@example.com/token", "bench-token")
        self.zendesk = httpx.Client(base_url=world.zendesk.base_url, auth=auth, timeout=30)
        self.jira = httpx.Client(base_url=world.jira.base_url, auth=auth, timeout=30)
        self._groups: dict[str, int] | None = None

    def close(self) -> None:
        """Close both clients."""
        self.zendesk.close()
        self.jira.close()

    def groups(self) -> dict[str, int]:
        """Group ids by name, read once."""
        if self._groups is None:
            answer = self.zendesk.get("/api/v2/groups.json").raise_for_status().json()
            self._groups = {g["name"]: int(g["id"]) for g in answer["groups"]}
        return self._groups

    def search(self, since: datetime) -> list[int]:
        """Ids of the tickets updated after `since`, oldest change first, every page."""
        stamp = since.strftime("%Y-%m-%dT%H:%M:%SZ")
        params: dict[str, Any] | None = {
            "query": f"type:ticket status<solved updated>{stamp}", "sort_by": "updated_at",
            "sort_order": "asc", "per_page": 100}
        url: str | None = "/api/v2/search.json"
        found: list[int] = []
        while url is not None:
            page = self.zendesk.get(url, params=params).raise_for_status().json()
            found += [int(result["id"]) for result in page["results"]]
            url, params = page["next_page"], None
        return found

    def handle(self, ticket_id: int) -> bool:
        """Read, triage and update one ticket (filing a bug in Jira first); True for a bug."""
        path = f"/api/v2/tickets/{ticket_id}.json"
        ticket = self.zendesk.get(path).raise_for_status().json()["ticket"]
        changes, bug = triage(ticket, self.groups())
        if bug:
            key = self.file_bug(ticket, urgent=changes.get("priority") == "urgent")
            changes["additional_tags"].append("jira_" + key.lower().replace("-", "_"))
        self.zendesk.put(path, json={"ticket": changes}).raise_for_status()
        return bug

    def file_bug(self, ticket: dict[str, Any], *, urgent: bool) -> str:
        """One Jira create for the ticket; the new issue's key."""
        fields = {
            "project": {"key": "ENG"}, "issuetype": {"name": "Bug"},
            "summary": f"[Zendesk #{ticket['id']}] {ticket['subject']}",
            "description": ticket["description"],
            "labels": [f"zendesk-{ticket['id']}", "from-zendesk"],
            "priority": {"name": "Highest" if urgent else "Medium"},
        }
        answer = self.jira.post("/rest/api/2/issue", json={"fields": fields})
        return str(answer.raise_for_status().json()["key"])

    def poll(self, since: datetime) -> PollFigures:
        """One poll: search, then handle every ticket found."""
        started = time.perf_counter()
        found = self.search(since)
        bugs = sum(self.handle(ticket_id) for ticket_id in found)
        return PollFigures(len(found), bugs, time.perf_counter() - started)
