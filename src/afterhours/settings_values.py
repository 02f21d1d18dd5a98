"""Single setting values checked and parsed: state URLs, http(s) URLs, host:port and
PagerDuty routing keys, for the settings classes and the commands that take such values."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# The schemes adapters/sql.py's open_database accepts.
STATE_URL_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com"
# An Events API v2 integration key: 32 letters and digits (a ruleset's starts with R).
_ROUTING_KEY = re.compile(r"[A-Za-z0-9]{32}")


def routing_key_problem(key: str) -> str | None:
    """What is wrong with a PagerDuty routing key's shape, or None (never the key itself)."""
    if not _ROUTING_KEY.fullmatch(key):
        return (f"is not an Events API v2 integration key (32 letters and digits; this one"
                f" has {len(key)} characters)")
    return None


def url_problem(url: str) -> str | None:
    """What is wrong with an http(s) URL setting, or None: a scheme and a host are needed."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        return "does not start with https:// (or http://)"
    if not parts.hostname:
        return "has no host name"
    return None


def state_url_for(state: str) -> str:
    """A --state value as a state URL: a URL as it is, a path as sqlite:///path."""
    return state if state.startswith(STATE_URL_SCHEMES) else f"sqlite:///{state}"


def parse_listen(listen: str) -> tuple[str, int]:
    """`host:port` (`[::]:8080` for IPv6) as a pair; ValueError naming what is wrong."""
    host, sep, port = listen.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected host:port, e.g. 0.0.0.0:8080, not {listen!r}")
    return host, int(port)
