"""Frozen dataclasses made quickly (domain.frozen.quick_init) are the same dataclasses."""

from __future__ import annotations

import dataclasses

import pytest

from afterhours.domain.actions import CreateJiraIssue, NotifyChannel, Plan, PlannedAction
from afterhours.domain.frozen import quick_init
from afterhours.domain.issue_text import issue_body
from factories import make_ticket


def test_a_quick_init_keeps_parameters_defaults_equality_and_frozenness() -> None:
    sent = NotifyChannel(7, "leads", "hello")
    assert (sent.claim, sent.filing) == (None, None)
    assert sent == NotifyChannel(ticket_id=7, channel="leads", text="hello", claim=None)
    assert hash(sent) == hash(NotifyChannel(7, "leads", "hello"))
    assert repr(sent) == ("NotifyChannel(ticket_id=7, channel='leads', text='hello', "
                          "claim=None, filing=None, conversation=None)")
    with pytest.raises(dataclasses.FrozenInstanceError):
        sent.text = "changed"  # type: ignore[misc]
    assert dataclasses.replace(sent, text="again").text == "again"
    planned = PlannedAction("k", "route:x", "why", sent)
    assert Plan(7, (planned,)) == Plan(7, (planned,), (), wake_at=None)
    issue = CreateJiraIssue(7, "ENG", "Bug", "s", issue_body(make_ticket(), "why"), ("l",))
    assert (issue.priority, issue.components) == (None, ())
    with pytest.raises(TypeError):
        PlannedAction("k", "route:x", "why")  # type: ignore[call-arg]


def test_a_field_with_a_default_factory_is_refused() -> None:
    @dataclasses.dataclass(frozen=True)
    class Listed:
        items: list[str] = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError, match="plain fields only"):
        quick_init(Listed)
