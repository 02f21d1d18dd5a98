"""The one list of known differences between the vendors' specs and their live services.

Every entry says why it exists: a defect of the spec itself (listed in the specs' README,
/work/shared/specs/README.md, "Known gaps and defects") or a documented difference of the live
service. An allowance absorbs one precise finding (service, operation, side, location, message),
never a whole endpoint; every use is counted in the contract report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from afterhours.contract.findings import Finding


@dataclass(frozen=True)
class Allowance:
    """A known difference: findings it matches are not violations."""

    key: str
    service: str  # "zendesk" or "jira"
    why: str
    endpoint: str = ".*"  # regex on "METHOD /spec/path/{template}"
    side: str = "request|response"  # regex on the finding's side
    where: str = ".*"  # regex on the finding's location, e.g. r"body\.ticket\.via"
    message: str = ".*"  # regex on the finding's message
    status: str = ".*"  # regex on the answer's status code

    def matches(self, service: str, endpoint: str, status: int, finding: Finding) -> bool:
        """True when this allowance covers `finding`."""
        return service == self.service and all(
            re.fullmatch(pattern, value) is not None
            for pattern, value in (
                (self.endpoint, endpoint), (self.side, finding.side),
                (self.where, finding.where), (self.message, finding.message),
                (self.status, str(status)),
            )
        )


# -- path rewrites: requests are sent as the live services expect, the specs list other paths --

JSON_SUFFIX = Allowance(
    "zendesk-json-suffix", "zendesk",
    "zenpy sends /api/v2/....json; the live API accepts both forms, the spec lists paths "
    "without the suffix (specs README, first Zendesk item).",
)
REST_V2 = Allowance(
    "jira-rest-v2-as-v3", "jira",
    "the jira client speaks REST v2; Atlassian documents v2 and v3 as the same operations "
    "(v3 adds ADF bodies) and publishes only the v3 file (specs README, SOURCES.txt).",
)


def rewrite_path(service: str, path: str, used: list[str]) -> str:
    """The spec's spelling of `path`; appends the key of each rewrite applied to `used`."""
    if service == "zendesk" and path.endswith(".json"):
        used.append(JSON_SUFFIX.key)
        return path.removesuffix(".json")
    if service == "jira" and path.startswith("/rest/api/2/"):
        used.append(REST_V2.key)
        return "/rest/api/3/" + path.removeprefix("/rest/api/2/")
    return path


# -- endpoints the specs do not describe at all -------------------------------------------

# `afterhours import-schedule` reads these (adapters/zendesk_schedules.py); the twin serves them
# in the shapes the reference documents (twins/zendesk_schedules.py). Nothing validates them.
_SCHEDULES_API = (
    "missing from Zendesk's file (specs README); documented in the Schedules API reference, "
    "https://developer.zendesk.com/api-reference/ticketing/ticket-management/schedules/, "
    "whose shapes the twin and adapters/zendesk_schedules.py follow."
)
# `{articles}` in replies searches the Help Center (adapters/zendesk_articles.py); the twin
# serves the search in the reference's shapes (twins/zendesk_help_center.py).
_HELP_CENTER_API = (
    "the Help Center API is not in Zendesk's Support file (specs README); documented in the "
    "Help Center API reference, Search Articles, "
    "https://developer.zendesk.com/api-reference/help_center/help-center-api/search/, "
    "whose shapes the twin and adapters/zendesk_articles.py follow."
)
MISSING_FROM_SPEC: dict[tuple[str, str, str], str] = {
    ("zendesk", "GET", "/api/v2/help_center/articles/search"): _HELP_CENTER_API,
    ("zendesk", "GET", "/api/v2/business_hours/schedules"): _SCHEDULES_API,
    ("jira", "GET", "/rest/applinks/latest/listApplicationlinks"):
        "the applinks plugin API is not part of the platform spec; only the jira client's "
        "add_remote_link calls it, which afterhours avoids (see adapters/jira.py).",
    ("zendesk", "GET", "/api/v2/business_hours/schedules/{schedule_id}"): _SCHEDULES_API,
    ("zendesk", "GET", "/api/v2/business_hours/schedules/{schedule_id}/holidays"):
        _SCHEDULES_API,
}


def missing_from_spec(service: str, method: str, path: str) -> str | None:
    """The listed path (a template such as .../{schedule_id}) when `method path` is an
    endpoint the spec lacks, else None."""
    for listed_service, listed_method, listed in MISSING_FROM_SPEC:
        pattern = "/".join("[^/]+" if part.startswith("{") else re.escape(part)
                           for part in listed.split("/"))
        if (listed_service, listed_method) == (service, method.upper()) and re.fullmatch(
                pattern, path):
            return listed
    return None


# -- findings the specs get wrong -----------------------------------------------------------

# Ticket fields real Zendesk answers with null (no type, no assignee, no form...), which the
# spec's TicketObject declares without `nullable: true`. brand_id is not here: every account
# has a default brand, so the twin fills it (twins/zendesk_state.py).
_NULLABLE_TICKET_FIELDS = (
    "type|priority|assignee_id|organization_id|group_id|external_id|problem_id|forum_topic_id"
    "|recipient|satisfaction_rating|ticket_form_id"
)
_SIDELOADS = "metric_sets|users|organizations|groups|brands|ticket_forms|comment_count"
_NONE_REJECTED = r"(\w+/)?(type|enum): None (for not nullable|is not (of type|one of) .*)"

FINDINGS: tuple[Allowance, ...] = (
    Allowance(
        "zendesk-null-ticket-fields", "zendesk",
        "spec defect: TicketObject declares these fields non-nullable, the live API answers "
        "null when a ticket has no type, priority, assignee, organization, group, form...",
        side="response", where=rf"body\.(ticket|tickets\.\d+)\.({_NULLABLE_TICKET_FIELDS})",
        message=_NONE_REJECTED,
    ),
    Allowance(
        "zendesk-null-shared-phone-number", "zendesk",
        "spec defect: UserObject.shared_phone_number is not nullable; users without a phone "
        "number have null there in the live API (as phone is, which the spec allows).",
        side="response", where=r"body\.(user|users\.\d+)\.shared_phone_number",
        message=_NONE_REJECTED,
    ),
    Allowance(
        "zendesk-custom-field-values", "zendesk",
        "spec defect: a custom field's value is declared a non-nullable string (string|integer "
        "in an audit's Change event); the live API answers null for a field not set or cleared, "
        "true/false for a checkbox and a list of option values for a multi-select (Tickets API, "
        "'Setting custom field values'), on tickets and in the Change events of their audits.",
        side="response",
        where=r"body\.((ticket|tickets\.\d+)\.custom_fields\.\d+|audit\.events\.\d+)\.value",
        message=r"(oneOf/)?type: (None for not nullable"
                r"|(None|True|False|\[.*\]) is not of type 'string')",
    ),
    Allowance(
        "zendesk-ticket-update-custom-field-values", "zendesk",
        "spec defect: TicketUpdateInput.custom_fields reuses CustomFieldObject, the definition of "
        "a field (key, type and title required, id read-only, no value); the Tickets API sets "
        "values as [{id, value}] ('Setting custom field values'). The twin checks that shape.",
        endpoint="PUT /api/v2/tickets/{ticket_id}", side="request",
        where=r"body\.ticket\.custom_fields\.\d+(\.id)?",
        message=r"readOnly: Tried to write read-only property with \d+"
                r"|properties: Additional properties are not allowed \('value' was unexpected\)"
                r"|required: '(key|type|title)' is a required property",
    ),
    Allowance(
        "zendesk-tags-change-event-array", "zendesk",
        "spec defect: AuditObject event `value` is string|integer; a tags Change event "
        "carries the tag list as an array in the live API (and in zenpy's audit objects).",
        endpoint="PUT /api/v2/tickets/{ticket_id}", side="response",
        where=r"body\.audit\.events\.\d+\.value", message=r"oneOf/type: \[.*\] is not of type .*",
    ),
    Allowance(
        "zendesk-cursor-replaces-start-time", "zendesk",
        "spec defect: start_time is declared required, but the cursor export takes either "
        "start_time (first page) or cursor (every later page, as after_url spells it).",
        endpoint="GET /api/v2/incremental/tickets/cursor", side="request",
        where=r"query\.start_time", message="required but not sent",
    ),
    Allowance(
        "zendesk-ticket-update-tag-lists-and-id", "zendesk",
        "spec gap: TicketUpdateInput lacks additional_tags/remove_tags, which the Tickets API "
        "documents for adding and removing tags (afterhours never replaces an agent's tags), "
        "and the `id` zenpy repeats from the URL, which the live API ignores. Only these "
        "three names pass: any other unknown field is still a violation.",
        endpoint="PUT /api/v2/tickets/{ticket_id}", side="request", where=r"body\.ticket",
        message=r"properties: Additional properties are not allowed "
                r"\(('(additional_tags|remove_tags|id)'(, )?)+ (was|were) unexpected\)",
    ),
    # The next two keep validating the values: only the forms Zendesk documents pass.
    Allowance(
        "zendesk-export-include-and-per-page", "zendesk",
        "spec gap: the export's side-loads (include=metric_sets,users,...) and per_page "
        "(at most 1000) are documented in Zendesk's guides, not declared in the file.",
        endpoint="GET /api/v2/incremental/tickets/cursor", side="request",
        where=r"query\.(include|per_page)",
        message=rf"not declared by the spec: '(({_SIDELOADS})(,({_SIDELOADS}))*"
                r"|[1-9]\d{0,2}|1000)'",
    ),
    Allowance(
        "zendesk-cursor-pagination-params", "zendesk",
        "spec gap: cursor pagination (page[size] up to 100, page[after]) applies to every "
        "list endpoint per Zendesk's pagination guide; the file declares it on few of them.",
        endpoint=r"GET /api/v2/(groups|tickets/\{ticket_id\}/comments)", side="request",
        where=r"query\.page\[(size|after)\]",
        message=r"not declared by the spec: '([1-9]\d?|100|[A-Za-z0-9_=-]+)'",
    ),
    Allowance(
        "zendesk-search-offset-pagination", "zendesk",
        "spec gap: List Search Results says 'Offset pagination only' but declares neither "
        "page nor per_page; the Search API reference documents both (at most 100 a page, "
        "1,000 results a query) and next_page spells them.",
        endpoint="GET /api/v2/search", side="request", where=r"query\.(page|per_page)",
        message=r"not declared by the spec: '[1-9]\d*'",
    ),
    Allowance(
        "zendesk-show-ticket-sideloads", "zendesk",
        "spec gap: Zendesk's side-loading guide (developer.zendesk.com, 'Side-loading related "
        "records') documents include= on a single ticket (.../tickets/1.json?include=users,"
        "groups) and on ticket lists; the file declares no include on Show Ticket or Show "
        "Multiple Tickets.",
        endpoint=r"GET /api/v2/tickets/(\{ticket_id\}|show_many)", side="request",
        where=r"query\.include",
        message=r"not declared by the spec: '[a-z_,]+'",
    ),
    Allowance(
        "zendesk-dangling-path-parameter", "zendesk",
        "spec defect (specs README: 12 operations declare path parameters not in their path): "
        "GET /api/v2/groups requires a path parameter user_id it has no place for.",
        endpoint="GET /api/v2/groups", side="request", where=r"path\.user_id",
        message="required but not sent",
    ),
    Allowance(
        "zendesk-undeclared-request-body", "zendesk",
        "spec defect (specs README: 123 write operations declare no request body, tags among "
        "them): the body cannot be validated; the twins check it themselves.",
        side="request", where="body", message="the spec declares no request body",
    ),
    Allowance(
        "zendesk-undeclared-error-status", "zendesk",
        "spec gap: Zendesk's file declares success answers only; 400/404/409/422 and their "
        "{error, description} bodies are documented in prose (API reference, Errors).",
        side="response", where="status", message=r"status 4\d\d is not declared",
    ),
    Allowance(
        "jira-datetime-offset-without-colon", "jira",
        "live-service difference: Jira writes timestamps as 2026-11-20T18:00:00.000+0000 (no "
        "colon in the offset) where the spec says date-time (RFC 3339 wants +00:00).",
        side="response",
        message=r"format: '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}' is not a 'date-time'",
    ),
    Allowance(
        "jira-remote-links-array", "jira",
        "spec defect (specs README): GET .../remotelink is declared as one RemoteIssueLink "
        "though the API answers a list when no globalId is asked for.",
        endpoint=r"GET /rest/api/3/issue/\{issueIdOrKey\}/remotelink", side="response",
        where="body", message=r"type: \[.*\] is not of type 'object'",
    ),
    Allowance(
        "jira-changelog-null-values", "jira",
        "spec defect: ChangeDetails declares from/fromString/to/toString non-nullable strings, "
        "but a field set from nothing (or cleared) has null there in the live API, as the "
        "spec's own example of Get changelogs shows (\"from\":null).",
        endpoint=r"GET /rest/api/3/issue/\{issueIdOrKey\}(/changelog)?", side="response",
        where=r"body\.(changelog\.histories|values)\.\d+\.items\.\d+\.(from|to)(String)?",
        message=_NONE_REJECTED,
    ),
    Allowance(
        "jira-204-without-body", "jira",
        "spec defect: doTransition's 204 declares an application/json body; a 204 has none.",
        side="response", status="204", where="body", message="Missing response data",
    ),
    Allowance(
        "jira-client-null-search-options", "jira",
        "the jira client (3.10) sends unset expand/properties as null in POST search/jql; "
        "Jira Cloud reads null as absent. afterhours itself searches with GET.",
        endpoint="POST /rest/api/3/search/jql", side="request", where=r"body\.(expand|properties)",
        message=_NONE_REJECTED,
    ),
    Allowance(
        "jira-search-by-deployment", "jira",
        "live-service difference: Jira Data Center has no enhanced search and answers "
        "search/jql 404; Jira Cloud retired the startAt search (CHANGE-2046) and answers it "
        "410. The Cloud spec declares neither answer; afterhours searches each on its own.",
        endpoint=r"(GET|POST) /rest/api/3/search(/jql)?", side="response", where="status",
        status="404|410", message="status (404|410) is not declared",
    ),
    # Not a spec difference: the twin tests send invalid bodies on purpose to prove the twins
    # refuse them. The twin answering 4xx is what the spec demands; each use is listed in the
    # report with its test, so an invalid request of afterhours' own would still stand out.
    Allowance(
        "invalid-request-refused", "zendesk",
        "an invalid request the twin refused (4xx), as the live service does",
        side="request", status=r"4\d\d", where=r"(body|query|path)(\..*)?",
    ),
    Allowance(
        "invalid-request-refused", "jira",
        "an invalid request the twin refused (4xx), as the live service does",
        side="request", status=r"4\d\d", where=r"(body|query|path)(\..*)?",
    ),
    Allowance(
        "test-probe-without-credentials", "zendesk",
        "tests read the twin raw with urllib and no credentials; afterhours always sends "
        "Basic credentials, which are validated on every other request.",
        side="request", where="security", message="no credentials sent",
    ),
)

ALL: tuple[Allowance, ...] = (JSON_SUFFIX, REST_V2, *FINDINGS)


def allowance_for(service: str, endpoint: str, status: int, finding: Finding) -> Allowance | None:
    """The allowance covering `finding`, or None when it is a violation."""
    return next((a for a in FINDINGS if a.matches(service, endpoint, status, finding)), None)


def allowance_keys() -> list[str]:
    """Every allowance key once, in list order."""
    return list(dict.fromkeys(a.key for a in ALL))
