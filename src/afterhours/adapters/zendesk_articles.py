"""Zendesk's Help Center article search (GET /api/v2/help_center/articles/search), read
through the Zendesk session (so within its rate budget) but outside its breaker and retries:
Guide failing must not stop tickets being written, and a reply goes out without articles
rather than wait (see README, "Known solutions")."""

from __future__ import annotations

from typing import Any

import requests

from afterhours.adapters.zendesk_http import classify
from afterhours.domain.model import Article
from afterhours.errors import PermanentError, TransientError

SEARCH_PATH = "/api/v2/help_center/articles/search.json"
PER_PAGE = 10
_SERVICE = "zendesk"


def search_articles(session: requests.Session, origin: str, query: str,
                    locale: str | None) -> list[Article]:
    """The first page of articles the search finds for `query` (in `locale`), by relevance;
    TransientError or PermanentError when Guide does not answer with them."""
    params: dict[str, Any] = {"query": query, "per_page": PER_PAGE}
    if locale:
        params["locale"] = locale
    try:
        response = session.get(f"{origin}{SEARCH_PATH}", params=params)
    except requests.RequestException as error:
        raise TransientError(_SERVICE, f"{type(error).__name__}: {error}") from error
    if response.status_code >= 400:
        raise classify(response, f"article search answered {response.status_code}", once=False)
    try:
        results = response.json().get("results")
    except ValueError as error:
        raise TransientError(_SERVICE, "article search answered no JSON") from error
    if not isinstance(results, list):
        raise PermanentError(_SERVICE, "article search answered without results")
    return [article for article in map(_article, results) if article is not None]


def _article(raw: object) -> Article | None:
    if not isinstance(raw, dict):
        return None
    title, url = raw.get("title"), raw.get("html_url")
    if not isinstance(title, str) or not isinstance(url, str):
        return None
    section = raw.get("section_id")
    labels = raw.get("label_names") or []
    return Article(title, url, section if isinstance(section, int) else None,
                   tuple(str(label) for label in labels if isinstance(label, str)))
