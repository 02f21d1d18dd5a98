"""What ops see of a running daemon: Prometheus metrics, readiness, and the HTTP server
that serves both (`AFTERHOURS_HTTP_LISTEN`)."""
