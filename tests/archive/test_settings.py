"""ARCHIVES and the other archive settings: safe defaults, and a bad value stops start-up
with a message naming the variable."""

from __future__ import annotations

import json

import pytest

from tests.test_settings import load_settings

SHOW = (
    "print(settings.ARCHIVE_LOOKUP, settings.ARCHIVE_SAVE_ON_CREATE, "
    "settings.ARCHIVE_SAVE_DAILY_CAP, [a['name'] for a in settings.ARCHIVES])"
)


def test_the_defaults_ask_the_internet_archive_and_save_nothing(tmp_path):
    result = load_settings(tmp_path, show=SHOW)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True False 100 ['Internet Archive']"


def test_archives_can_be_configured_as_json(tmp_path):
    archives = [{"name": "Local", "timegate": "http://archive.internal/web/"}]
    result = load_settings(tmp_path, show=SHOW, ARCHIVES=json.dumps(archives))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("['Local']")


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        '{"name": "x"}',
        '[{"timegate": "http://a.test/"}]',
        '[{"name": "x", "timegate": "ftp://a.test/"}]',
        '[{"name": "x", "timgate": "http://a.test/"}]',
    ],
)
def test_a_malformed_archives_value_stops_start_up_naming_it(tmp_path, value):
    result = load_settings(tmp_path, show=SHOW, ARCHIVES=value)
    assert result.returncode != 0
    assert "ARCHIVES" in result.stderr
