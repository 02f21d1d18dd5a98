"""Whether a failed request surely never reached the server (so nothing can have landed)."""

from __future__ import annotations

import requests


def surely_unsent(error: requests.RequestException) -> bool:
    """No connection was ever made (refused, unresolvable, connect timeout)."""
    return isinstance(error, requests.ConnectTimeout) or (
        isinstance(error, requests.ConnectionError)
        and "NewConnectionError" in repr(error.args)
    )
