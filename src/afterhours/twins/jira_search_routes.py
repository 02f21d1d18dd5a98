"""HTTP endpoints of the Jira twin for Data Center's search: `GET` and `POST /rest/api/2/search`,
paged by startAt against a total, over the same lagging index as Cloud's search/jql.

On a Cloud twin they answer 410, as Jira Cloud has since it retired them (CHANGE-2046); a
Data Center twin answers search/jql 404 (see `JiraTwin.search` and `search_from`).
Each handler runs under the server lock (see `TwinServer.dispatch`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from afterhours.twins import jira_search as search
from afterhours.twins._http import Request, Response
from afterhours.twins.jira_routes import API, _int_arg, _list_arg, posted_search

if TYPE_CHECKING:
    from afterhours.twins.jira import JiraTwin


def register_search(twin: JiraTwin) -> None:
    """Attach Data Center's search endpoints to `twin.server`."""
    route = twin.server.route

    @route("GET", f"{API}/search")
    def search_get(request: Request) -> Response:
        return Response(200, twin.search_from(
            request.arg("jql"),
            start_at=_int_arg(request.arg("startAt"), "startAt", 0),
            max_results=_int_arg(request.arg("maxResults"), "maxResults",
                                 search.DEFAULT_MAX_RESULTS),
            fields=_list_arg(request, "fields"),
        ))

    @route("POST", f"{API}/search")
    def search_post(request: Request) -> Response:
        body, max_results, fields = posted_search(request)
        return Response(200, twin.search_from(
            body.get("jql"), start_at=_int_arg(body.get("startAt"), "startAt", 0),
            max_results=max_results, fields=fields,
        ))
