"""Who a Jira user is, per deployment. Jira Cloud names users by `accountId`; Jira Data
Center has none and names them by `key` (the user key, which survives a rename of the
username) or, on old installations without one, `name` (the username). The rest of
afterhours sees only an opaque author id string.
"""

from __future__ import annotations

from jira import JIRA

from afterhours.errors import PermanentError

_SERVICE = "jira"
_CLOUD_FIELDS = ("accountId",)
_DATA_CENTER_FIELDS = ("key", "name")


def is_cloud(jira: JIRA) -> bool:
    """True on Jira Cloud (serverInfo's deploymentType), False on Data Center."""
    return bool(jira.deploymentType == "Cloud")


def author_id(user: object, *, cloud: bool) -> str | None:
    """The id of a Jira user object (an author, /myself) on its deployment; None when it
    carries none (an anonymous or deleted author)."""
    if not isinstance(user, dict):
        return None
    fields = _CLOUD_FIELDS if cloud else _DATA_CENTER_FIELDS
    return next((str(user[field]) for field in fields if user.get(field)), None)


def own_author_id(jira: JIRA) -> str:
    """afterhours' own author id, from /myself read the deployment's way. A /myself without
    one is loud: without it afterhours' own changes would read back as an engineer's."""
    cloud = is_cloud(jira)
    found = author_id(jira.myself(), cloud=cloud)
    if found is None:
        wanted = " or ".join(_CLOUD_FIELDS if cloud else _DATA_CENTER_FIELDS)
        raise PermanentError(
            _SERVICE, f"GET /myself names no {wanted} for afterhours' account "
            f"({'Cloud' if cloud else 'Data Center'}); sync back cannot tell its own changes "
            "from engineers': check the account in AFTERHOURS_JIRA_EMAIL")
    return found
