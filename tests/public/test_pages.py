from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.content[:500]
    return BeautifulSoup(response.content, "html.parser")


def page_items(page: BeautifulSoup) -> list[tuple[int, str | None]]:
    """(resource id, the address it is linked to, or None) for each item, in page order."""
    found = []
    for item in page.select("li.item"):
        link = item.select_one("a.item-link")
        found.append((int(item["data-resource-id"]), link["href"] if link else None))
    return found


def test_the_home_page_replaces_the_redirect_and_the_admin_stays_at_admin(client, catalogue):
    page = soup(client.get("/"))
    assert page.find("a", string="So you want deep learning")["href"] == "/collections/deep/"
    assert page.find("a", string="Deep learning")["href"] == "/topics/deep-learning/"
    assert client.get("/admin/").status_code == 302  # to the admin's own login page
    assert client.get("/admin/login/").status_code == 200


def test_a_collection_page_shows_what_the_api_shows_an_anonymous_client(client, catalogue):
    api = client.get("/api/v1/collections/deep/").json()
    expected = [
        (item["resource"]["id"], item["resource"]["link"])
        for section in api["sections"]
        for item in section["items"]
    ]
    page = soup(client.get("/collections/deep/"))
    assert page_items(page) == expected
    assert [h.get_text() for h in page.select("section.section h2")] == [
        s["title"] for s in api["sections"]
    ]


def test_a_broken_item_says_so_and_is_never_a_live_link(client, catalogue):
    book = catalogue["book"]
    page = soup(client.get("/collections/deep/"))
    item = page.select_one(f'li.item[data-resource-id="{book.pk}"]')
    assert item.select_one("a.item-link") is None
    assert item.select_one(".health").get_text() == "Broken link: not linked"
    assert book.url not in client.get("/collections/deep/").content.decode()


def test_a_moved_item_is_linked_at_its_new_address(client, catalogue):
    page = soup(client.get("/collections/deep/"))
    item = page.select_one(f'li.item[data-resource-id="{catalogue["course"].pk}"]')
    assert item.select_one("a.item-link")["href"] == "https://example.test/moved-course"


def test_a_collection_item_shows_note_kind_difficulty_duration_and_cost(client, catalogue):
    page = soup(client.get("/collections/deep/"))
    item = page.select_one(f'li.item[data-resource-id="{catalogue["video"].pk}"]')
    assert item.select_one(".note").get_text() == "Watch all of it."
    meta = {k: item.select_one(f".{k}").get_text() for k in ("kind", "difficulty", "cost")}
    assert meta == {"kind": "Video", "difficulty": "Beginner", "cost": "Free"}
    assert item.select_one(".duration").get_text() == "190 min"


def test_drafts_appear_nowhere_on_the_site(client, catalogue):
    draft = catalogue["draft"]
    assert "Unpublished draft" not in client.get("/collections/deep/").content.decode()
    assert client.get(f"/resources/{draft.pk}/").status_code == 404
    assert "Unpublished draft" not in client.get("/search/?q=draft").content.decode()


def test_a_draft_collection_is_not_found(client, catalogue):
    from curation.models import PublicationStatus

    catalogue["collection"].status = PublicationStatus.DRAFT
    catalogue["collection"].save()
    assert client.get("/collections/deep/").status_code == 404


def test_a_topic_page_links_prerequisites_and_explains_each_recommendation(client, catalogue):
    page = soup(client.get("/topics/deep-learning/"))
    before = page.select_one(".prerequisites a")
    assert (before.get_text(), before["href"]) == ("Linear algebra", "/topics/linear-algebra/")
    beginner = page.select_one("#level-beginner")
    ids = [int(li["data-resource-id"]) for li in beginner.select("li.item")]
    assert ids == [catalogue["video"].pk, catalogue["course"].pk]
    reasons = [p.get_text() for p in beginner.select(".reasons")]
    assert reasons[0].startswith("Why: ") and "covers prerequisite: Linear algebra" in reasons[0]


def test_a_topic_page_never_recommends_a_broken_link(client, catalogue):
    page = soup(client.get("/topics/deep-learning/"))
    ids = {int(li["data-resource-id"]) for li in page.select("li.item")}
    assert catalogue["book"].pk not in ids


def test_the_resource_page_of_a_broken_link_says_so_without_linking_it(client, catalogue):
    book = catalogue["book"]
    page = soup(client.get(f"/resources/{book.pk}/"))
    assert page.select_one(".dead") is not None
    assert page.select_one("a.item-link") is None


def test_the_resource_page_links_its_topics(client, catalogue):
    page = soup(client.get(f"/resources/{catalogue['video'].pk}/"))
    assert page.select_one(".crumbs a[href='/topics/linear-algebra/']") is not None
    assert page.select_one("a.go")["href"] == catalogue["video"].url


def test_search_finds_published_live_resources_only(client, catalogue):
    page = soup(client.get("/search/?q=deep"))
    ids = [pk for pk, _ in page_items(page)]
    assert ids == [catalogue["course"].pk]


def test_search_without_words_shows_no_results(client, catalogue):
    page = soup(client.get("/search/?q=+"))
    assert page.select("li.item") == []


def test_unknown_pages_are_not_found(client, catalogue):
    for path in ("/topics/nope/", "/collections/nope/", f"/resources/{2**64}/"):
        assert client.get(path).status_code == 404, path


def test_catalogue_text_is_escaped_in_pages(client, catalogue):
    html = client.get(f"/resources/{catalogue['video'].pk}/").content.decode()
    assert "Great &lt;b&gt;for&lt;/b&gt; visual thinkers &amp; friends" in html


def test_the_pages_use_the_sites_own_stylesheet_and_nothing_from_elsewhere(client, catalogue):
    page = soup(client.get("/"))
    sheets = [link["href"] for link in page.select('link[rel="stylesheet"]')]
    assert sheets == ["/static/public/site.css"]
    assert finders.find("public/site.css") is not None
    assert page.select("script[src]") == []
    css = open(finders.find("public/site.css")).read()  # noqa: SIM115
    assert "prefers-color-scheme: dark" in css and "url(" not in css


def test_pages_answer_only_reads(client, catalogue):
    assert client.post("/").status_code == 405


def test_a_topic_page_links_the_collections_that_teach_it(client, catalogue):
    page = soup(client.get("/topics/deep-learning/"))
    links = [(a.get_text(), a["href"]) for a in page.select("a.collection")]
    assert links == [("So you want deep learning", "/collections/deep/")]
