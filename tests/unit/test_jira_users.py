"""A Jira user's id per deployment: Cloud's accountId, Data Center's user key (or username)."""

from __future__ import annotations

from afterhours.adapters.jira_users import author_id

CLOUD = {"accountId": "557058:f00", "displayName": "Dana Engineer"}
DATA_CENTER = {"name": "dana.engineer", "key": "JIRAUSER10100", "displayName": "Dana Engineer"}


def test_cloud_users_are_their_account_id() -> None:
    assert author_id(CLOUD, cloud=True) == "557058:f00"
    assert author_id(DATA_CENTER, cloud=True) is None


def test_data_center_users_are_their_key_else_their_name() -> None:
    assert author_id(DATA_CENTER, cloud=False) == "JIRAUSER10100"
    assert author_id(DATA_CENTER | {"key": None}, cloud=False) == "dana.engineer"
    assert author_id(CLOUD, cloud=False) is None


def test_an_author_jira_left_out_has_no_id() -> None:
    assert author_id(None, cloud=False) is None
    assert author_id({}, cloud=True) is None
    assert author_id({"key": ""}, cloud=False) is None
