"""The names that tie a ticket and its Jira issue together, on either side."""

from __future__ import annotations

import re

# The label counting the tickets an issue has (joined ones with the one that filed it),
# such as customers-3: engineers sort by it.
CUSTOMERS_PREFIX = "customers-"
_TICKET_LABEL = re.compile(r"^zendesk-[0-9]{1,18}$")


def jira_label(ticket_id: int) -> str:
    """The label that ties a Jira issue to its ticket, set in the create request itself."""
    return f"zendesk-{ticket_id}"


def jira_tag(issue_key: str) -> str:
    """The Zendesk tag that shows which Jira issue a ticket was filed as."""
    return "jira_" + issue_key.lower().replace("-", "_")


def is_ticket_label(label: str) -> bool:
    """Whether `label` ties an issue to a ticket (zendesk-<id>)."""
    return _TICKET_LABEL.match(label) is not None
