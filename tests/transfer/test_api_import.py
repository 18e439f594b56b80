from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from curation.models import Collection, Resource
from tests.factories import UserFactory

SEED = Path(__file__).with_name("fixtures") / "so-you-are-interested-in-deep-learning.linked.md"
URL = "/api/v1/imports/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(curator) -> APIClient:
    client = APIClient()
    client.force_authenticate(curator)
    return client


def test_a_curator_posts_the_seed_and_gets_the_report(api):
    response = api.post(URL, {"file": SimpleUploadedFile(SEED.name, SEED.read_bytes()),
                              "collection": "deep-learning"}, format="multipart")  # fmt: skip

    assert response.status_code == 200, response.json()
    report = response.json()
    assert report["applied"] and report["created"]["resource"] == 16
    assert [p["line"] for p in report["problems"]] == [17, 23, 28]
    assert Collection.objects.get().slug == "deep-learning"


def test_a_dry_run_answers_the_same_report_and_writes_nothing(api):
    response = api.post(URL, {"file": SimpleUploadedFile(SEED.name, SEED.read_bytes()),
                              "dry_run": True}, format="multipart")  # fmt: skip

    assert response.status_code == 200 and response.json()["created"]["resource"] == 16
    assert not Resource.objects.exists()


def test_a_file_with_errors_is_a_400_naming_each_line_and_writes_nothing(api):
    content = b"url,title\nhttps://a.example.test/,A\nnot a url,B\n"
    response = api.post(URL, {"file": SimpleUploadedFile("l.csv", content)}, format="multipart")

    body = response.json()
    assert response.status_code == 400
    assert body["errors"][0]["message"].startswith("line 3, column 1: error: bad URL")
    assert body["report"]["created"] == {"resource": 1} and not body["report"]["applied"]
    assert not Resource.objects.exists()


def test_an_unreadable_file_is_a_400_on_the_file_field(api):
    response = api.post(URL, {"file": SimpleUploadedFile("x.json", b"{oops")},
                        format="multipart")  # fmt: skip

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "file"


def test_anonymous_is_401_and_a_reader_is_403():
    client = APIClient()
    upload = {"file": SimpleUploadedFile("l.csv", b"url\n")}
    assert client.post(URL, upload, format="multipart").status_code == 401

    client.force_authenticate(UserFactory())
    upload = {"file": SimpleUploadedFile("l.csv", b"url\n")}
    assert client.post(URL, upload, format="multipart").status_code == 403
