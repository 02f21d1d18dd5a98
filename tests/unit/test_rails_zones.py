"""Rails (Zendesk) time zone names to IANA names."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from afterhours.errors import ConfigError
from afterhours.policy.rails_zones import MAPPING, UnknownTimeZoneError, iana_zone


@pytest.mark.parametrize(("rails", "iana"), [
    ("Pacific Time (US & Canada)", "America/Los_Angeles"),
    ("Eastern Time (US & Canada)", "America/New_York"),
    ("Central Time (US & Canada)", "America/Chicago"),
    ("Mountain Time (US & Canada)", "America/Denver"),
    ("Atlantic Time (Canada)", "America/Halifax"),
    ("Indiana (East)", "America/Indiana/Indianapolis"),
    ("London", "Europe/London"),
    ("Edinburgh", "Europe/London"),
    ("Bern", "Europe/Zurich"),
    ("Kyiv", "Europe/Kiev"),
    ("UTC", "Etc/UTC"),
    ("International Date Line West", "Etc/GMT+12"),
    ("New Delhi", "Asia/Kolkata"),
    ("Nuku'alofa", "Pacific/Tongatapu"),
    ("Samoa", "Pacific/Apia"),
    ("American Samoa", "Pacific/Pago_Pago"),
])
def test_rails_names_map_to_their_iana_zone(rails: str, iana: str) -> None:
    assert iana_zone(rails) == iana


def test_the_mapping_is_rails_whole_list_and_every_zone_loads() -> None:
    assert len(MAPPING) == 151
    for name, zone in MAPPING.items():
        assert ZoneInfo(zone).key == zone, name


@pytest.mark.parametrize("name", ["America/Los_Angeles", "Europe/London", "Asia/Kolkata",
                                  "Etc/UTC", "Europe/Kyiv"])
def test_iana_names_pass_through(name: str) -> None:
    assert iana_zone(name) == name


@pytest.mark.parametrize("name", [
    "Pacific Time", "pacific time (us & canada)", "Londno", "America", "Mars/Olympus_Mons", "",
    " Europe/London", "../../etc/passwd", "/etc/localtime", "localtime",
])
def test_unknown_names_are_a_config_error(name: str) -> None:
    with pytest.raises(UnknownTimeZoneError, match="unknown time zone") as raised:
        iana_zone(name)
    assert isinstance(raised.value, ConfigError)


def test_the_error_suggests_close_rails_names() -> None:
    with pytest.raises(UnknownTimeZoneError, match=r"did you mean 'Pacific Time \(US & Canada\)'"):
        iana_zone("Pacific Time")
