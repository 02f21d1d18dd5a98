"""The daemon's one HTTP server: Starlette on uvicorn, in a thread of its own.

`/healthz` (the process is alive), `/readyz` (keeping up; see afterhours.ops.health) and
`/metrics` (Prometheus text). Later routes (push webhooks, a status page) are mounted on the
same app: pass them as `routes`. The main thread keeps SIGTERM, SIGINT and SIGHUP: uvicorn
installs no signal handler outside the main thread, and `stop` ends the server.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Sequence

import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from afterhours.errors import ConfigError
from afterhours.ops.health import Health
from afterhours.ops.metrics import Metrics
from afterhours.settings import parse_listen

log = structlog.get_logger()
STOP_SECONDS = 5.0  # a scrape in flight gets this long; the daemon's stop has 10 s in all


def build_app(health: Health, metrics: Metrics, routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The ASGI app: the three ops routes, then `routes`."""

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_: Request) -> Response:
        readiness = health.check()
        body = {"ready": readiness.ready, "reasons": readiness.reasons, **readiness.detail}
        return JSONResponse(body, status_code=200 if readiness.ready else 503)

    async def metrics_text(request: Request) -> Response:
        body, content_type = metrics.exposition(request.headers.get("accept"))
        return Response(body, headers={"Content-Type": content_type})

    return Starlette(routes=[
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_text, methods=["GET"]),
        *routes,
    ])


class HttpServer:
    """uvicorn serving `app` on a socket bound up front, so a port in use fails at start."""

    def __init__(self, app: Starlette, listen: str) -> None:
        host, port = parse_listen(listen)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            self._socket = socket.create_server((host, port), family=family)
        except OSError as error:
            raise ConfigError(f"AFTERHOURS_HTTP_LISTEN={listen}: cannot listen: {error}") from error
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        # No log config (structlog owns logging), no access log (every probe would be a line),
        # no lifespan (the app has no start-up work).
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="afterhours-http", daemon=True)

    def start(self) -> HttpServer:
        """Serve in the background; return self."""
        self._thread.start()
        log.info("http.listening", host=self.host, port=self.port)
        return self

    def stop(self) -> None:
        """Stop serving and release the port; in-flight requests get a few seconds."""
        self._server.should_exit = True
        self._thread.join(STOP_SECONDS)
        if self._thread.is_alive():  # a hung client: give up on it, the process is leaving
            self._server.force_exit = True
            self._thread.join(1.0)
        self._socket.close()

    @property
    def url(self) -> str:
        """Where the server answers, e.g. http://127.0.0.1:8080."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _serve(self) -> None:
        # A loop of its own in this thread; uvicorn's capture_signals is a no-op off the
        # main thread, so the daemon's own handlers stay in force.
        asyncio.run(self._server.serve(sockets=[self._socket]))


def start_server(listen: str, health: Health, metrics: Metrics,
                 routes: Sequence[BaseRoute] = ()) -> HttpServer:
    """Build the app and serve it on `listen` (host:port) in a background thread."""
    return HttpServer(build_app(health, metrics, routes), listen).start()
