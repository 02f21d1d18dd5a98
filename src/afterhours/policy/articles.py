"""Help-center articles in the acknowledgement: which may be offered, and how many."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from afterhours.policy.conditions import Tag, _Strict


class Articles(_Strict):
    """What `{articles}` in a reply template offers: help-center articles found for the
    ticket by Zendesk's article search, by its subject and description."""

    max_articles: Annotated[int, Field(ge=1, le=10)] = Field(
        default=3, description="At most this many articles.")
    threshold: Annotated[int, Field(ge=0, le=100)] = Field(
        default=60,
        description="How alike (0-100, rapidfuzz's token-set ratio) an article's title must be "
        "to the ticket's subject to be offered; none above it: nothing is offered.",
    )
    sections: list[Annotated[int, Field(gt=0)]] = Field(
        default=[], description="Only articles of these help-center section ids (none: any).")
    labels: list[Tag] = Field(
        default=[], description="Only articles with one of these labels (none: any).")
    locale: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")] | None = Field(
        default=None,
        description="The help center's locale to search, such as en-us; leave out for the "
        "help center's default.",
    )
    cache_minutes: Annotated[int, Field(ge=1, le=1_440)] = Field(
        default=60, description="How long a search's answer is reused for the same words.")
