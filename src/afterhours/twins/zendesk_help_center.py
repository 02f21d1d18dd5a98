"""Help Center articles on the Zendesk twin, and their search (GET
/api/v2/help_center/articles/search.json).

The shapes follow Zendesk's Help Center API reference (Search Articles,
https://developer.zendesk.com/api-reference/help_center/help-center-api/search/): at least one
of query, category, section or label_names; offset pagination (page, per_page 1-100, 25 by
default); each result an article {id, url, html_url, title, body, locale, section_id,
label_names, ...} with result_type "article" and a snippet. Relevance here: how many of the
query's words (three letters or more, any case) the title and body hold, the title's counting
twice; an article holding none is not found. Zendesk's OpenAPI file lacks the Help Center API,
so the contract layer lists these exchanges without validating them (MISSING_FROM_SPEC).
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable, Sequence
from datetime import datetime

from afterhours.twins._http import HttpError, Request, Response, TwinServer
from afterhours.twins.zendesk_shapes import Json, iso

SEARCH = "/api/v2/help_center/articles/search.json"
_WORD = re.compile(r"\w{3,}")


def _bad_request(description: str) -> HttpError:
    return HttpError(400, {"error": "InvalidSearchParameters", "description": description})


class ZendeskHelpCenter:
    """The help center's articles, seeded by tests, and their search over `server`."""

    def __init__(self, server: TwinServer, clock: Callable[[], datetime],
                 base_url: Callable[[], str]) -> None:
        self._server, self._clock, self._base_url = server, clock, base_url
        self._ids = itertools.count(360000201)
        self.articles: dict[int, Json] = {}
        self.searches = 0  # how many searches were answered (cache tests count them)
        server.route("GET", SEARCH)(self._search)

    def add_article(self, title: str, body: str, *, section_id: int = 360000101,
                    labels: Sequence[str] = (), locale: str = "en-us") -> Json:
        """Publish an article; return its JSON."""
        with self._server.lock:
            article_id = next(self._ids)
            base = self._base_url()
            stamp = iso(self._clock())
            slug = "-".join(_WORD.findall(title.lower()))[:60]
            article: Json = {
                "id": article_id, "url": f"{base}/api/v2/help_center/{locale}/articles/"
                f"{article_id}.json", "html_url": f"{base}/hc/{locale}/articles/"
                f"{article_id}-{slug}", "title": title, "body": body, "locale": locale,
                "section_id": section_id, "label_names": list(labels), "draft": False,
                "created_at": stamp, "updated_at": stamp,
            }
            self.articles[article_id] = article
            return copy.deepcopy(article)

    def _search(self, request: Request) -> Response:
        query, section = request.arg("query"), request.arg("section")
        labels = [x for x in (request.arg("label_names") or "").split(",") if x]
        if not (query or section or labels or request.arg("category")):
            raise _bad_request("Specify at least one of query, category, section or label_names")
        per_page, page = _number(request.arg("per_page"), 25, 100), _number(
            request.arg("page"), 1, 10_000)
        locale = request.arg("locale")
        words = {w.lower() for w in _WORD.findall(query or "")}
        found: list[tuple[int, int, Json]] = []
        for article in self.articles.values():
            if locale not in (None, "*") and article["locale"] != locale:
                continue
            if section and str(article["section_id"]) != section:
                continue
            if labels and not set(labels) & set(article["label_names"]):
                continue
            title = {w.lower() for w in _WORD.findall(article["title"])}
            body = {w.lower() for w in _WORD.findall(article["body"])}
            score = 2 * len(words & title) + len(words & body)
            if words and not score:
                continue
            found.append((-score, article["id"], article))
        found.sort(key=lambda item: item[:2])
        self.searches += 1
        results = [{**copy.deepcopy(a), "result_type": "article",
                    "snippet": a["body"][:120]} for *_, a in found]
        shown = results[(page - 1) * per_page:page * per_page]
        pages = max(1, -(-len(results) // per_page))
        return Response(200, {
            "results": shown, "count": len(results), "page": page, "per_page": per_page,
            "page_count": pages, "previous_page": None, "next_page": None,
        })


def _number(text: str | None, default: int, most: int) -> int:
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= most:
        raise _bad_request(f"must be an integer from 1 to {most}: {text!r}")
    return int(text)
