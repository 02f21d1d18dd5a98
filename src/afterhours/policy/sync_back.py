"""The policy's `sync_back:` section: what flows back once a ticket is filed in Jira.

From Jira to the ticket: which changes leave an internal note, which comments are copied, what
a resolution does. From the ticket to Jira: what a solve, a reopening or a new customer
comment leaves on the issue while it is open. Leaving the section out turns sync-back off.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from afterhours.policy.conditions import Tag, _Strict

ProjectKey = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]+$")]
NoteChange = Literal["status", "assignee", "fix_version", "resolution"]
Visibility = Annotated[str, Field(pattern=r"^(role|group):\S.{0,254}$")]
CommentText = Annotated[str, Field(min_length=1, max_length=2_000)]
Marker = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^\S(.*\S)?$")]


class CopiedComments(_Strict):
    """Which Jira comments are copied to the ticket as internal notes; never the rest."""

    marker: Marker | None = Field(
        default=None,
        description="A comment whose text starts with this (any case) is copied, the marker "
        "taken off, such as [zendesk].",
        examples=["[zendesk]"],
    )
    visibility: list[Visibility] = Field(
        default=[],
        description="A comment restricted to one of these is copied: role:<name> or "
        "group:<name>, as Jira's comment visibility names them.",
        examples=[["role:Support"]],
    )

    @model_validator(mode="after")
    def _says_which(self) -> CopiedComments:
        if self.marker is None and not self.visibility:
            raise ValueError("copy_comments needs a marker: or a visibility: list, or no "
                             "comment would ever be copied")
        return self


class OnResolution(_Strict):
    """What the ticket gets when its Jira issue is resolved, once per resolution."""

    resolutions: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(
        default=[],
        description="Only these Jira resolutions (such as Done, Fixed) count; leave out for "
        "any. A Won't Do then leaves only the notes.",
    )
    reopen: bool = Field(
        default=False,
        description="true: a solved, pending or on-hold ticket goes back to open, for the "
        "agent to confirm the fix with the customer.",
    )
    tags: list[Tag] = Field(default=[], description="Tags to add to the ticket.")
    reply: str | None = Field(
        default=None,
        description="A public reply to the requester: the name of a template under "
        "templates:, which may use {issue_key}, {issue_url}, {fix_version} and {resolution}.",
    )
    wait_for_fix_version: bool = Field(
        default=False,
        description="true: do nothing until the resolved issue has a fix version (a reply "
        "that names the release then always can); false: act at once, and leave out a reply "
        "that names a fix version the issue does not have.",
    )

    @model_validator(mode="after")
    def _does_something(self) -> OnResolution:
        if not (self.reopen or self.tags or self.reply):
            raise ValueError("on_resolution does nothing: give reopen: true, tags: or reply:")
        return self


class JiraReaction(_Strict):
    """What a change of the ticket leaves on its open Jira issue."""

    comment: CommentText | None = Field(
        default=None,
        description="A comment on the issue; may use {ticket_id} and {issue_key}. A link to "
        "the ticket is added.",
    )
    labels: list[Tag] = Field(default=[], description="Labels to add to the issue.")

    @model_validator(mode="after")
    def _does_something(self) -> JiraReaction:
        if self.comment is None and not self.labels:
            raise ValueError("give a comment: or labels: (or leave this out)")
        return self


class CustomerCommentReaction(JiraReaction):
    """What a new public comment by the requester leaves on the open Jira issue."""

    quote: bool = Field(
        default=True,
        description="true: the comment on the issue quotes the customer's words (as text "
        "only: nothing in them can become a link, a mention or markup).",
    )


class InJira(_Strict):
    """What happens in Jira when a linked ticket changes while its issue is open."""

    ticket_solved: JiraReaction | None = Field(
        default=None, description="The ticket was solved (or closed) by an agent.")
    ticket_reopened: JiraReaction | None = Field(
        default=None, description="The ticket was reopened after a solve (not by afterhours).")
    customer_comment: CustomerCommentReaction | None = Field(
        default=None, description="The requester commented in public on the ticket.")


class SyncBack(_Strict):
    """What flows between a ticket and its Jira issues once it is filed (see docs/policy.md,
    sync_back)."""

    projects: list[ProjectKey] = Field(
        default=[],
        description="Jira projects to watch besides those routes file into (an issue an "
        "engineer moved or labelled zendesk-<ticket id> there).",
    )
    notes_on: list[NoteChange] = Field(
        default=[],
        description="Which Jira changes leave an internal note on every linked ticket, with "
        "the issue's link: status, assignee, fix_version, resolution.",
    )
    copy_comments: CopiedComments | None = Field(
        default=None, description="Which Jira comments are copied to the ticket as internal "
        "notes; the rest never are.")
    on_resolution: OnResolution | None = Field(
        default=None, description="What a resolution of the issue does to the ticket.")
    in_jira: InJira = Field(
        default=InJira(), description="What a solve, a reopening or a customer comment on the "
        "ticket leaves on its open Jira issue.")

    @model_validator(mode="after")
    def _does_something(self) -> SyncBack:
        reaction = self.in_jira
        if not (self.notes_on or self.copy_comments or self.on_resolution
                or reaction.ticket_solved or reaction.ticket_reopened
                or reaction.customer_comment):
            raise ValueError("sync_back does nothing: give notes_on:, copy_comments:, "
                             "on_resolution: or in_jira:, or leave the section out")
        return self
