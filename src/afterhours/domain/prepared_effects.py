"""A rule's or level's effects as plain values and words, worked out once per policy part.

The planner applies the same few rules to every ticket: what they set, and the words of the
skips they may record, are the same each time, so they are read off the policy model once
(an enum's `.value`, a joined list of tags; domain.compiled) rather than on every plan.
"""

from __future__ import annotations

from afterhours.policy.rules import ONCALL_PREFIX, Effects, EscalationLevel


class PreparedEffects:
    """What one rule or level does, as plain values; a level's note (`note=False`) is left
    to its ladder, which always leaves one."""

    def __init__(self, effects: Effects, *, note: bool) -> None:
        self.priority = None if effects.priority is None else effects.priority.value
        self.priority_said = f"priority already {self.priority}"
        self.tags = tuple(effects.tags)
        self.tag_set = frozenset(effects.tags)
        self.tags_said = f"tags {', '.join(effects.tags)} already on the ticket"
        self.remove_tags = tuple(effects.remove_tags)
        self.group = effects.group
        self.group_said = f"already in group {effects.group!r}"
        self.assignee = effects.assignee
        # `oncall:<team>`: whoever is on call for the team when the plan is made.
        self.oncall = (effects.assignee.removeprefix(ONCALL_PREFIX)
                       if effects.assignee is not None
                       and effects.assignee.startswith(ONCALL_PREFIX) else None)
        self.note = effects.note if note else None
        self.reply = effects.reply
        self.notify = effects.notify
        self.page = effects.page
        # Whether it writes words at all: a note, a reply, a message or a page.
        self.writes = (self.note is not None or self.reply is not None
                       or self.notify is not None or self.page is not None)
        # A level has no jira: (and asking pydantic for a field it lacks costs an exception).
        self.files_in_jira = (not isinstance(effects, EscalationLevel)
                              and getattr(effects, "jira", None) is not None)
