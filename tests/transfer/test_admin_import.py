from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from curation.models import Collection, Resource
from tests.factories import UserFactory

SEED = Path(__file__).with_name("fixtures") / "so-you-are-interested-in-deep-learning.linked.md"

pytestmark = pytest.mark.django_db


def upload(name: str, content: bytes, **options) -> dict:
    return {
        "file": SimpleUploadedFile(name, content),
        "format": "auto",
        "folders": "sections",
        "on_duplicate": "skip",
        **options,
    }


def test_the_preview_shows_counts_and_every_problem_and_writes_nothing(curator_client):
    response = curator_client.post(reverse("admin:curation_import"),
                                   upload(SEED.name, SEED.read_bytes()))  # fmt: skip

    page = response.content.decode()
    assert response.status_code == 200
    assert "16 resource" in page and "1 collection" in page
    assert page.count('<tr class="warning">') == 3
    assert not Resource.objects.exists()


def test_confirming_the_preview_imports_the_previewed_file(curator_client, curator):
    url = reverse("admin:curation_import")
    preview = curator_client.post(url, upload(SEED.name, SEED.read_bytes()))
    token = preview.context["request"].session["curation_transfer_upload"]["token"]

    response = curator_client.post(url, {"confirm": "1", "token": token})

    assert response.status_code == 302
    assert Collection.objects.get().sections.count() == 8
    assert set(Resource.objects.values_list("created_by", flat=True)) == {curator.pk}


def test_a_file_with_errors_cannot_be_confirmed_unless_valid_rows_are_asked_for(curator_client):
    url = reverse("admin:curation_import")
    content = b"url,title\nhttps://a.example.test/,A\nnope,B\n"

    refused = curator_client.post(url, upload("list.csv", content)).content.decode()
    assert "Confirm the import" not in refused and "line" in refused.lower()

    allowed = curator_client.post(url, upload("list.csv", content, import_valid_rows="on"))
    assert "Confirm the import" in allowed.content.decode()


def test_a_refused_file_is_a_form_error_not_a_crash(curator_client):
    response = curator_client.post(reverse("admin:curation_import"),
                                   upload("x.json", b'{"not": "a catalogue"}'))  # fmt: skip

    assert response.status_code == 200
    assert "not a Syllabus catalogue" in response.content.decode()


def test_staff_without_the_add_permission_cannot_import(client):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(reverse("admin:curation_import")).status_code == 403
