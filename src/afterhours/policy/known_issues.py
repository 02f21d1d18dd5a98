"""Known issues, kept by leads: a bug already filed in Jira that new tickets join instead of
filing a duplicate, with what the customer is told about it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import Field

from afterhours.policy.basics import RuleName
from afterhours.policy.conditions import Condition, _Strict

ISSUE_KEY_PATTERN = r"^[A-Z][A-Z0-9_]+-[1-9][0-9]*$"


class KnownIssue(_Strict):
    """One known issue: which tickets are about it, its Jira key, and its status in words."""

    id: RuleName | None = Field(
        default=None,
        description="A stable id (same form as a name) that what afterhours did is remembered "
        "by; without one the name is used.",
    )
    name: RuleName = Field(description="A unique name: lowercase letters, digits, - and _.")
    when: Condition = Field(
        description="The conditions a ticket about this issue meets, in the language of "
        "routes (keywords, organizations, tags, ...); every one given must hold."
    )
    jira: Annotated[str, Field(pattern=ISSUE_KEY_PATTERN)] = Field(
        description="The Jira issue tickets about it join, by key, such as ENG-42.",
        examples=["ENG-42"],
    )
    status: Annotated[str, Field(min_length=1, max_length=1_000)] = Field(
        description="What the customer is told, as {known_issue} in a reply template, such as "
        "\"Exports fail for some accounts since 4.1; a fix is in progress.\"",
    )


def known_issue_key(issue: KnownIssue) -> str:
    """What the ledger remembers a known issue by: its id, else its name."""
    return issue.id or issue.name


def known_issue_problems(
        issues: Sequence[KnownIssue]) -> list[tuple[tuple[str | int, ...], str]]:
    """Each known issue a lead must fix, with its path: a name used twice, or conditions that
    would make every bug ticket join it."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    seen: set[str] = set()
    for i, issue in enumerate(issues):
        if known_issue_key(issue) in seen:
            problems.append((("known_issues", i, "name"), (
                f"known issue {known_issue_key(issue)!r} is named twice: give each its own "
                "name (or id)")))
        seen.add(known_issue_key(issue))
        if issue.when.is_empty():
            problems.append((("known_issues", i, "when"), (
                f"known issue {issue.name!r} has no conditions, so every bug ticket would join "
                f"{issue.jira}: say what a ticket about it mentions (keywords:, tags:, ...)")))
    return problems


class SimilarIssues(_Strict):
    """Joining open issues afterhours filed by how alike the tickets are."""

    matcher: Literal["words", "meaning"] = Field(
        default="words",
        description="How alike is judged: `words` (the words the tickets share, built in) or "
        "`meaning` (what the tickets say, by a sentence-embedding model: catches "
        "paraphrases; needs the model installed, see the README). Scores differ: measure the "
        "threshold for the matcher chosen.",
    )
    threshold: Annotated[int, Field(ge=50, le=100)] = Field(
        description="How alike (0-100) a new bug ticket's subject and description must be to "
        "those of a ticket an open issue has, for the ticket to join that issue. `afterhours "
        "replay` and `explain` show the scores: set it there before relying on it.",
    )
    projects: list[Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]+$")]] = Field(
        default=[],
        description="The Jira projects whose issues may be joined; leave out for the projects "
        "the rules file into.",
    )
    within_days: Annotated[int, Field(ge=1, le=365)] = Field(
        default=30, description="Only issues filed (or linked) in the last this many days.")
    status: Annotated[str, Field(max_length=1_000)] = Field(
        default="",
        description="What {known_issue} says to a customer whose ticket joined a similar "
        "issue, such as \"We are already working on a problem that looks like yours.\"",
    )
