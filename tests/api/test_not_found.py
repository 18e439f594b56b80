from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/reports/abc/", "/api/v1/nothing-here/"])
def test_an_unrouted_api_address_answers_json_404(client, settings, path):
    settings.DEBUG = False
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["code"] == "not_found"


def test_an_unrouted_admin_address_keeps_the_html_page(client, settings):
    settings.DEBUG = False
    response = client.get("/nowhere/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
