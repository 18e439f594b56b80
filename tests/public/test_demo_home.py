"""`make run` on a fresh clone: `load_demo --if-empty`, then the public site shows the demo
collection at /, its items linked as the API links them."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.core.management import call_command

pytestmark = pytest.mark.django_db

DEMO_SLUG = "so-you-are-interested-in-deep-learning"


def test_the_home_page_of_a_fresh_install_shows_the_demo_collection(client):
    call_command("load_demo", "--if-empty")
    home = client.get("/")
    assert home.status_code == 200
    page = BeautifulSoup(home.content, "html.parser")
    links = {a["href"] for a in page.select("a")}
    assert f"/collections/{DEMO_SLUG}/" in links


def test_the_demo_collection_page_lists_what_the_api_lists(client):
    call_command("load_demo", "--if-empty")
    api = client.get(f"/api/v1/collections/{DEMO_SLUG}/").json()
    expected = [item["resource"]["id"] for s in api["sections"] for item in s["items"]]
    response = client.get(f"/collections/{DEMO_SLUG}/")
    assert response.status_code == 200
    page = BeautifulSoup(response.content, "html.parser")
    shown = [int(li["data-resource-id"]) for li in page.select("li.item")]
    assert shown == expected and len(shown) > 10
    assert page.select_one("section.section h2").get_text() == "Start with a course"
