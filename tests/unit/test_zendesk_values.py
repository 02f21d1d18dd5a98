"""Custom field values as the Zendesk adapter turns them into (title, value) pairs."""

from __future__ import annotations

from typing import Any

import pytest

from afterhours.adapters.zendesk_lookup import TicketField, custom_field_pairs

FIELDS = {
    1: TicketField("Region", custom=True),
    2: TicketField("Plan", custom=True, options={"plan_ent": "Enterprise", "Team": "Team"}),
    3: TicketField("Products", custom=True, options={"p_api": "API", "p_billing": "Billing"}),
}


@pytest.mark.parametrize(
    ("field_id", "value", "pairs"),
    [
        (1, "EMEA", [("Region", "EMEA")]),
        (1, True, [("Region", "true")]),
        (1, False, [("Region", "false")]),
        (1, 42, [("Region", "42")]),
        (1, 2.5, [("Region", "2.5")]),
        (1, None, []),
        (1, "", []),
        (1, [], []),
        (2, "plan_ent", [("Plan", "Enterprise"), ("Plan", "plan_ent")]),
        (2, "Team", [("Plan", "Team")]),  # name and value alike: once
        (2, "plan_gone", [("Plan", "plan_gone")]),  # an option since deleted: as it is
        (3, ["p_api", "p_billing"],
         [("Products", "API"), ("Products", "p_api"), ("Products", "Billing"),
          ("Products", "p_billing")]),
        (99, "x", []),  # a field Zendesk did not list
        ("1", "x", []),  # not an id
    ],
)
def test_values_become_pairs_by_title(field_id: Any, value: Any, pairs: list[Any]) -> None:
    assert custom_field_pairs([{"id": field_id, "value": value}], FIELDS) == tuple(pairs)
