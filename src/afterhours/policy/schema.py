"""The policy as a JSON Schema (draft 2020-12), for editors' completion, hover and squiggles.

It is generated from the pydantic model, then adjusted where the model's own schema would
describe Python rather than the YAML a lead writes. It cannot say everything `afterhours
check` does (unique rule names, declared channels, overlapping hours, known time zones):
`check` stays the authority.
"""

from __future__ import annotations

import json
from typing import Any

from afterhours.policy.model import Policy, Weekday

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "urn:afterhours:policy-schema:1"
# What TimeRange's own parser accepts: HH:MM-HH:MM, an end of 24:00 for midnight.
_CLOCK = r"([01][0-9]|2[0-3]):[0-5][0-9]"
TIME_RANGE_PATTERN = rf"^\s*{_CLOCK}-({_CLOCK}|24:00)\s*$"


def policy_schema() -> dict[str, Any]:
    """The policy's JSON Schema as a dict: the model's schema plus the fixes described above."""
    generated = Policy.model_json_schema()
    defs: dict[str, Any] = generated["$defs"]
    # The model parses "09:00-17:30" into {start, end}; the file only ever holds the string.
    defs["TimeRange"] = {
        "title": "TimeRange",
        "description": "Open from HH:MM (inclusive) to HH:MM (exclusive), in the schedule's "
        "time zone; 24:00 is midnight at the end of the day.",
        "type": "string",
        "pattern": TIME_RANGE_PATTERN,
        "examples": ["09:00-17:30", "18:00-24:00"],
    }
    # Weekdays as named properties, so an editor offers them as keys.
    hours = defs["Schedule"]["properties"]["hours"]
    day_list = hours.pop("additionalProperties") | {
        "description": "Open ranges on this day, HH:MM-HH:MM; [] or left out: closed all day."
    }
    hours.pop("propertyNames")
    hours["properties"] = {day.value: day_list for day in Weekday}
    hours["additionalProperties"] = False
    # pydantic lets a channel name that misses the pattern through as an unchecked extra key;
    # `check` refuses it, so the editor should too.
    channels = generated["properties"]["channels"]
    ((pattern, channel),) = channels.pop("patternProperties").items()
    channels["propertyNames"]["pattern"] = pattern
    channels["additionalProperties"] = channel
    # A block is written either as a plain list of rules or as {match, rules}; say both.
    for block, rule in (("priority_rules", "PriorityRule"), ("routes", "Route"),
                        ("escalations", "Escalation")):
        prop = generated["properties"][block]
        ref = prop.pop("$ref")
        prop.pop("default", None)
        prop["anyOf"] = [{"type": "array", "items": {"$ref": f"#/$defs/{rule}"}}, {"$ref": ref}]
    _drop_object_defaults(generated)
    generated.pop("title", None)
    # The policy's own keys before the definitions, for a person reading the file.
    ordered = {key: generated.pop(key) for key in list(generated) if key != "$defs"}
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "afterhours routing policy",
        **ordered,
        "$defs": defs,
    }


def render_schema() -> str:
    """The schema as the indented JSON that `afterhours schema` prints and the repo keeps."""
    return json.dumps(policy_schema(), indent=2) + "\n"


def _drop_object_defaults(node: Any) -> None:
    # pydantic writes `when`'s default out as a Match with every list empty; an editor would
    # offer to insert all seven. Leaving `when` out already means "every ticket".
    if isinstance(node, dict):
        if isinstance(node.get("default"), dict) and ("$ref" in node or "type" in node):
            del node["default"]
        for value in node.values():
            _drop_object_defaults(value)
    elif isinstance(node, list):
        for value in node:
            _drop_object_defaults(value)
