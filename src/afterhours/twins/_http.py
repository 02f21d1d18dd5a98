"""A tiny loopback HTTP server that routes requests to plain handler functions.

Both twins are built on it: they register handlers with `route`, keep their
state behind one lock, and let tests count what each endpoint served.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


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
    """What a handler answers: a status, a JSON body and extra headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


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


class TwinServer:
    """Routes, counts and serves requests on 127.0.0.1; state access is serialised by `lock`."""

    def __init__(self, name: str, *, record_exchanges: bool = False) -> None:
        self.name = name
        self.lock = threading.RLock()
        self.requests: Counter[str] = Counter()
        self.exchanges: list[Exchange] = []
        self.record_exchanges = record_exchanges
        self._routes: list[_Route] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Register `handler` for `method` on `pattern` ("/a/{id}/b.json")."""

        def register(handler: Handler) -> Handler:
            self._routes.append(_Route(method, f"{method} {pattern}", _compile(pattern), handler))
            return handler

        return register

    @property
    def base_url(self) -> str:
        """The http://127.0.0.1:PORT the server listens on."""
        if self._server is None:
            raise RuntimeError(f"{self.name} twin is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self, port: int = 0) -> str:
        """Listen on 127.0.0.1 (a free port by default) in a daemon thread; return the base URL."""
        server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        server.daemon_threads = True
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
        """Find the route for `request`, run it under the lock and count it."""
        for route in self._routes:
            if route.method != request.method:
                continue
            match = route.regex.match(request.path)
            if match is None:
                continue
            routed = Request(
                request.method, request.path, request.query, request.headers, request.body,
                match.groupdict(),
            )
            with self.lock:
                self.requests[route.name] += 1
                try:
                    response = route.handler(routed)
                except HttpError as error:
                    response = error.response
                if self.record_exchanges:
                    self.exchanges.append(Exchange(routed, response))
            return response
        return Response(404, {"error": "RecordNotFound", "description": "Not found"})

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
                self._send(twin.dispatch(request))

            def _send(self, response: Response) -> None:
                payload = b"" if response.body is None else json.dumps(response.body).encode()
                self.send_response(response.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in response.headers.items():
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
