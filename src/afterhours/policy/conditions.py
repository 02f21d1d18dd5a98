"""The conditions a rule puts on a ticket: value tests, shorthand lists, and all / any / not.

A `Condition` holds when every test it gives holds. Tests on one field compare in any case;
`contains` finds whole words; `regex` is RE2 (linear time, so a hostile description cannot
stall the daemon with a pattern that backtracks).
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from typing import Annotated, Any

import re2
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Tag = Annotated[str, Field(pattern=r"^[A-Za-z0-9_:./-]+$", max_length=80)]
# A blank keyword would compile to a pattern that matches between any two non-word characters.
Keyword = Annotated[str, Field(pattern=r"\S", max_length=200)]
Value = Annotated[str, Field(max_length=500)]


class Priority(StrEnum):
    """Zendesk's ticket priorities."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def regex_options() -> re2.Options:
    """RE2 options for policy patterns: any case, and no error chatter on stderr."""
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    return options


# What double-quoted YAML turns a regex's backslash sequence into, and its name.
_YAML_ESCAPES = {"\b": ("\\b", "a backspace"), "\t": ("\\t", "a tab"),
                 "\n": ("\\n", "a line break"), "\r": ("\\r", "a carriage return"),
                 "\f": ("\\f", "a form feed"), "\v": ("\\v", "a vertical tab"),
                 "\a": ("\\a", "a bell"), "\x1b": ("\\e", "an escape"),
                 "\x00": ("\\0", "a NUL")}


def no_control_characters(pattern: str) -> None:
    """ValueError for a regex holding a control character: in double quotes YAML reads `\\b`
    as a backspace (and `\\t` as a tab...), so the pattern silently matches nothing."""
    found = next((c for c in pattern if unicodedata.category(c) == "Cc"), None)
    if found is None:
        return
    meant = "".join(_YAML_ESCAPES[c][0] if c in _YAML_ESCAPES else
                    f"\\x{ord(c):02x}" if unicodedata.category(c) == "Cc" else c
                    for c in pattern)
    what = (f"{_YAML_ESCAPES[found][0]} became {_YAML_ESCAPES[found][1]}"
            if found in _YAML_ESCAPES else f"U+{ord(found):04X}")
    raise ValueError(
        f"the regex holds a control character ({what}): double-quoted YAML reads backslash"
        f" escapes itself; write the regex in single quotes: regex: '{meant}'")


def compile_regex(pattern: str) -> Any:
    """Compile a policy pattern with RE2; ValueError with RE2's reason when it is invalid."""
    try:
        return re2.compile(pattern, regex_options())
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode(errors="replace")
        raise ValueError(
            f"invalid regex {pattern!r}: {reason} (RE2 syntax: no look-arounds or back-references)"
        ) from None


def _as_list(value: object) -> object:
    # `contains: outage` reads naturally; treat a lone string as a list of one.
    return [value] if isinstance(value, str) else value


class Test(_Strict):
    """One test on a ticket field; give exactly one of equals, in, contains, regex or present."""

    equals: Value | None = Field(
        default=None, description="The whole value, in any case: equals: pending."
    )
    in_: Annotated[list[Value], Field(min_length=1)] | None = Field(
        default=None,
        alias="in",
        description="One of these values, in any case: in: [new, open].",
    )
    contains: Annotated[list[Keyword], Field(min_length=1)] | None = Field(
        default=None,
        description='Any of these words or phrases as whole words, in any case ("down" does not '
        'match "download").',
    )
    regex: Annotated[str, Field(min_length=1, max_length=500)] | None = Field(
        default=None,
        description="An RE2 regular expression found anywhere in the value, in any case; "
        "(?-i) makes it case sensitive.",
    )
    present: bool | None = Field(
        default=None, description="true: the field has a value; false: it is empty or unset."
    )

    _contains = field_validator("contains", mode="before")(_as_list)

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            no_control_characters(value)
            compile_regex(value)
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Test:
        given = [name for name in ("equals", "in_", "contains", "regex", "present")
                 if getattr(self, name) is not None]
        if len(given) != 1:
            said = ", ".join(n.rstrip("_") for n in given) or "none"
            raise ValueError(
                f"a test takes exactly one of equals, in, contains, regex, present (got {said})"
            )
        return self


class Condition(_Strict):
    """Conditions on a ticket; every one given must hold. Leave all out to match every ticket."""

    keywords: list[Keyword] = Field(
        default=[],
        description='Words or phrases to find in the subject or description, as whole words in '
        'any case ("down" does not match "download"). Any one of them is enough.',
    )
    organizations: list[str] = Field(
        default=[], description="Requester organization names, in any case. Any one is enough."
    )
    requester_domains: list[str] = Field(
        default=[],
        description="Requester email domains, such as globex.com. Any one is enough.",
    )
    tags: list[Tag] = Field(
        default=[], description="Zendesk tags; the ticket must have at least one of them."
    )
    channels: list[str] = Field(
        default=[],
        description="Zendesk channels the ticket came in by (via), such as email, web or api. "
        "Any one is enough.",
    )
    priorities: list[Priority] = Field(
        default=[],
        description="Ticket priorities; any one is enough. A ticket without a priority matches "
        "none of them.",
    )
    after_hours: bool | None = Field(
        default=None,
        description="true: only tickets created outside the schedule's hours; false: only "
        "tickets created inside them. Leave out for both.",
    )
    subject: Test | None = Field(default=None, description="A test on the subject.")
    description: Test | None = Field(
        default=None, description="A test on the description (the ticket's first comment)."
    )
    text: Test | None = Field(
        default=None, description="A test on the subject or the description: either may pass."
    )
    status: Test | None = Field(
        default=None, description="A test on the status: new, open, pending, hold."
    )
    priority: Test | None = Field(
        default=None, description="A test on the priority; an unset priority is empty."
    )
    channel: Test | None = Field(
        default=None, description="A test on the channel (via): email, web, api, chat, ..."
    )
    requester_email: Test | None = Field(
        default=None, description="A test on the requester's email address."
    )
    requester_domain: Test | None = Field(
        default=None, description="A test on the requester's email domain, such as globex.com."
    )
    organization: Test | None = Field(
        default=None, description="A test on the requester's organization name."
    )
    group: Test | None = Field(default=None, description="A test on the group's name.")
    assignee: Test | None = Field(
        default=None, description="A test on the assignee's email; present: false = unassigned."
    )
    tag: Test | None = Field(
        default=None, description="A test on the tags: holds when any one tag passes."
    )
    fields: dict[Annotated[str, Field(min_length=1, max_length=200)], Test] = Field(
        default={},
        description="Tests on custom fields, by the field's title as Zendesk shows it; a "
        "drop-down may be tested by its option's name or its value.",
    )
    all_: list[Condition] = Field(
        default=[], alias="all", description="Conditions that must all hold."
    )
    any_: list[Condition] = Field(
        default=[],
        alias="any",
        description="Conditions of which at least one must hold. An empty list is left out.",
    )
    not_: Condition | None = Field(
        default=None, alias="not", description="A condition that must not hold."
    )

    def is_empty(self) -> bool:
        """True when no condition is given: the rule matches every ticket."""
        return not self.model_fields_set or all(
            getattr(self, name) in (None, [], {}) for name in self.model_fields_set
        )


# The name the rest of the code base has always used for a rule's `when:`.
Match = Condition
