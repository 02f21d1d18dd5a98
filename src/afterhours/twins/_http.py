"""A tiny loopback HTTP server that routes requests to plain handler functions.

Every twin is built on it: they register handlers with `route`, keep their
state behind one lock, and let tests count what each endpoint served. Each server
carries a `Faults` registry (off until a rule is added) for chaos tests.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from afterhours.twins.faults import NOT_JSON_BODY, ErrorBody, Faults, abort, error_body_for
from afterhours.twins.ratelimit import TwinRateLimit


@dataclass(frozen=True)
class Request:
    """One HTTP request as a handler sees it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any  # parsed JSON, or None when there was no body
    params: dict[str, str] = field(default_factory=dict)  # path parameters

    def arg(self, name: str, default: str | None = None) -> str | None:
        """Return the first value of query parameter `name`."""
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    """What a handler answers: a status, a JSON body (bytes are sent as they are) and extra
    headers. `injected` names the body's spots a fault broke on purpose ("body.tickets.0.tags"),
    so the contract checks tell them from the twin's own mistakes."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    injected: tuple[str, ...] = ()


class HttpError(Exception):
    """Raised by a handler to answer with an error status and JSON body."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.response = Response(status, body, headers or {})


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Exchange:
    """A request and the answer it got, kept for contract checks."""

    request: Request
    response: Response


@dataclass(frozen=True)
class _Route:
    method: str
    name: str  # the endpoint label used in counts, e.g. "GET /api/v2/tickets/{id}.json"
    regex: re.Pattern[str]
    handler: Handler


def _compile(pattern: str) -> re.Pattern[str]:
    # "{name}" matches one path segment; a trailing ".json" stays literal.
    parts = re.split(r"(\{[a-z_]+\})", pattern)
    regex = "".join(
        f"(?P<{p[1:-1]}>[^/]+?)" if p.startswith("{") else re.escape(p) for p in parts
    )
    return re.compile(f"^{regex}$")


def _not_found() -> Response:
    return Response(404, {"error": "RecordNotFound", "description": "Not found"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer (a killed daemon, a read timeout) is no twin bug;
        # a traceback per hang-up would bury real ones in a chaos run.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class TwinServer:
    """Routes, counts and serves requests on 127.0.0.1; state access is serialised by `lock`.

    `requests` counts handler runs per endpoint (injected answers and resets are not runs);
    `faults` injects failures; `error_body` shapes the JSON of injected error answers;
    `rate_limit`, when set, enforces a vendor's rate limit (see twins.ratelimit).
    """

    def __init__(self, name: str, *, record_exchanges: bool = False,
                 error_body: ErrorBody | None = None) -> None:
        self.name = name
        self.lock = threading.RLock()
        self.requests: Counter[str] = Counter()
        self.exchanges: list[Exchange] = []
        self.record_exchanges = record_exchanges
        self.faults = Faults()
        self.error_body: ErrorBody = error_body or error_body_for(name)
        self.rate_limit: TwinRateLimit | None = None
        self._routes: list[_Route] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Register `handler` for `method` on `pattern` ("/a/{id}/b.json")."""

        def register(handler: Handler) -> Handler:
            self._routes.append(_Route(method, f"{method} {pattern}", _compile(pattern), handler))
            return handler

        return register

    def routes(self) -> list[tuple[str, str]]:
        """Every (method, pattern) registered, in matching order (the spec subset's input)."""
        return [(route.method, route.name.split(" ", 1)[1]) for route in self._routes]

    @property
    def base_url(self) -> str:
        """The http://127.0.0.1:PORT the server listens on."""
        if self._server is None:
            raise RuntimeError(f"{self.name} twin is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self, port: int = 0) -> str:
        """Listen on 127.0.0.1 (a free port by default) in a daemon thread; return the base URL."""
        server = _Server(("127.0.0.1", port), self._handler_class())
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"twin-{self.name}", daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> TwinServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def dispatch(self, request: Request) -> Response:
        """Find the route for `request`, run it under the lock and count it (no faults)."""
        found = self._match(request)
        return _not_found() if found is None else self._run(*found, record=True)

    def _match(self, request: Request) -> tuple[_Route, Request] | None:
        for route in self._routes:
            if route.method != request.method:
                continue
            match = route.regex.match(request.path)
            if match is not None:
                return route, Request(request.method, request.path, request.query,
                                      request.headers, request.body, match.groupdict())
        return None

    def _run(self, route: _Route, routed: Request, *, record: bool) -> Response:
        with self.lock:
            self.requests[route.name] += 1
            try:
                response = route.handler(routed)
            except HttpError as error:
                response = error.response
            if record and self.record_exchanges:
                self.exchanges.append(Exchange(routed, response))
        return response

    def serve(self, request: Request) -> Response | None:
        """Dispatch `request` through `faults`; None means: abort the connection, answer nothing."""
        found = self._match(request)
        if found is None:
            return _not_found()
        route, routed = found
        limit = self.rate_limit
        served, limit_headers = limit.admit(route.name) if limit is not None else (True, {})
        if not served:
            # Left out of `exchanges`, as injected answers are: no spec lists every 429.
            return Response(429, self.error_body(429), limit_headers)
        fault = self.faults.draw(route.name)
        if fault.latency:
            time.sleep(fault.latency)
        if fault.kind == "reset":
            return None
        if fault.kind == "not_json":
            # Left out of `exchanges` as the injected errors are: no spec describes a proxy.
            return Response(200, NOT_JSON_BODY, {"Content-Type": "text/html; charset=utf-8"})
        if fault.kind == "answer" and fault.status is not None:
            # Left out of `exchanges`: the specs need not declare every status we inject.
            headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            return Response(fault.status, self.error_body(fault.status), headers)
        # A dropped answer has no response to check against the specs: keep it unrecorded.
        response = self._run(route, routed, record=fault.kind is None)
        served_with = replace(response, headers={**response.headers, **limit_headers})
        return None if fault.kind == "drop_after_commit" else served_with

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        twin = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, the body waits for the
            # client's delayed ACK of the headers: 40 ms per request on a kept-alive socket.
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    self._send(Response(400, {"error": "InvalidJSON"}))
                    return
                request = Request(
                    self.command, split.path, parse_qs(split.query),
                    {k.lower(): v for k, v in self.headers.items()}, body,
                )
                response = twin.serve(request)
                if response is None:
                    abort(self.connection)
                    self.close_connection = True  # nothing more may be read or written here
                    return
                self._send(response)

            def _send(self, response: Response) -> None:
                body = response.body
                payload = (body if isinstance(body, bytes)
                           else b"" if body is None else json.dumps(body).encode())
                headers = {"Content-Type": "application/json; charset=utf-8", **response.headers}
                self.send_response(response.status)
                self.send_header("Content-Length", str(len(payload)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815  (http.server's names)

            def log_message(self, format: str, *args: Any) -> None:
                # Access logs would drown the daemon's own structured logs.
                return

        return _Handler


class Twin:
    """What every twin shares: a `TwinServer` and its lifecycle."""

    server: TwinServer

    def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1 (a free port by default); return the base URL."""
        return self.server.start(port)

    def stop(self) -> None:
        """Stop serving."""
        self.server.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The http://127.0.0.1:PORT the twin listens on."""
        return self.server.base_url
