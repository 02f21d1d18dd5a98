"""Help-center searches kept for a while: one search per distinct words and locale per
`minutes`, at most LIMIT of them; a failed search (Guide down) holds further searches off
for a minute, and its tickets' replies go out without articles."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog

from afterhours.domain.model import Article
from afterhours.errors import ServiceError

log = structlog.get_logger()
LIMIT = 512
HOLD_OFF = timedelta(minutes=1)
Search = Callable[[str, str | None], list[Article]]


class ArticleCache:
    """Searches by (words, locale), each answer kept until it expires."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._kept: OrderedDict[tuple[str, str | None], tuple[datetime, tuple[Article, ...]]] = (
            OrderedDict())
        self._down_until: datetime | None = None

    def articles(self, search: Search, words: str, locale: str | None,
                 minutes: int) -> tuple[Article, ...] | None:
        """The articles found for `words` (kept or searched now); None when the search
        failed or is held off."""
        now = self._clock()
        kept = self._kept.get((words, locale))
        if kept is not None and kept[0] > now:
            return kept[1]
        if self._down_until is not None and now < self._down_until:
            return None
        try:
            found = tuple(search(words, locale))
        except ServiceError as error:
            self._down_until = now + HOLD_OFF
            log.warning("help_center.search_failed", error=str(error))
            return None
        self._kept[(words, locale)] = (now + timedelta(minutes=minutes), found)
        self._kept.move_to_end((words, locale))
        while len(self._kept) > LIMIT:
            self._kept.popitem(last=False)
        return found
