from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup

from curation.public.feeds import BROKEN_NOTE, JSON_FEED_VERSION

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
FEEDS = [
    "/collections/deep/feed.{fmt}",
    "/topics/deep-learning/feed.{fmt}",
    "/feeds/catalogue.{fmt}",
]


@pytest.mark.parametrize("path", FEEDS)
@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("atom", "application/atom+xml"), ("rss", "application/rss+xml"),
     ("json", "application/feed+json")],
)  # fmt: skip
def test_each_feed_answers_in_its_media_type(client, catalogue, path, fmt, media_type):
    response = client.get(path.format(fmt=fmt))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(media_type)
    assert response["ETag"] and response["Last-Modified"]


def test_a_collection_atom_feed_lists_the_items_with_the_curators_notes(client, catalogue):
    root = ElementTree.fromstring(client.get("/collections/deep/feed.atom").content)
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "Essence of linear algebra", "Practical Deep Learning", "The Deep Learning Book",
    ]  # fmt: skip
    assert entries[0].findtext(f"{ATOM}summary") == "Watch all of it."
    links = [e.find(f"{ATOM}link").get("href") for e in entries]
    assert links[0] == f"http://testserver/resources/{catalogue['video'].pk}/"


def test_a_broken_item_in_a_feed_says_so_and_links_only_its_page_here(client, catalogue):
    feed = client.get("/collections/deep/feed.json").json()
    book = feed["items"][2]
    assert BROKEN_NOTE in book["content_text"]
    assert "external_url" not in book
    assert book["url"] == f"http://testserver/resources/{catalogue['book'].pk}/"
    assert catalogue["book"].url not in json.dumps(feed)


def test_the_json_feed_is_version_1_1(client, catalogue):
    feed = client.get("/topics/deep-learning/feed.json").json()
    assert feed["version"] == JSON_FEED_VERSION
    assert feed["feed_url"] == "http://testserver/topics/deep-learning/feed.json"
    # The topic feed has new resources of the topic: never a broken one, never a draft.
    assert [item["title"] for item in feed["items"]] == ["Practical Deep Learning"]
    assert feed["items"][0]["external_url"] == "https://example.test/moved-course"


def test_the_catalogue_rss_feed_has_every_live_published_resource(client, catalogue):
    root = ElementTree.fromstring(client.get("/feeds/catalogue.rss").content)
    titles = {item.findtext("title") for item in root.iter("item")}
    assert titles == {"Essence of linear algebra", "Practical Deep Learning"}


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_a_feed_readers_conditional_get_gets_304(client, catalogue, fmt):
    first = client.get(f"/collections/deep/feed.{fmt}")
    again = client.get(
        f"/collections/deep/feed.{fmt}",
        HTTP_IF_NONE_MATCH=first["ETag"],
        HTTP_IF_MODIFIED_SINCE=first["Last-Modified"],
    )
    assert again.status_code == 304
    assert again.content == b""


def test_if_modified_since_alone_gets_304(client, catalogue):
    first = client.get("/feeds/catalogue.atom")
    again = client.get("/feeds/catalogue.atom", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.status_code == 304


def test_a_changed_collection_answers_the_reader_in_full(client, catalogue):
    first = client.get("/collections/deep/feed.atom")
    video = catalogue["video"]
    video.title = "Essence of linear algebra (new edition)"
    video.save()
    again = client.get("/collections/deep/feed.atom", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert b"new edition" in again.content


def test_unknown_feeds_are_not_found(client, catalogue):
    for path in (
        "/collections/nope/feed.atom", "/topics/nope/feed.rss", "/feeds/catalogue.xml",
    ):  # fmt: skip
        assert client.get(path).status_code == 404, path


def test_the_opml_file_lists_every_published_collections_feed(client, catalogue):
    from tests.factories import CollectionFactory

    CollectionFactory(title="A draft list", slug="draft-list", status="draft")
    root = ElementTree.fromstring(client.get("/feeds/collections.opml").content)
    outlines = root.findall("./body/outline")
    assert [(o.get("text"), o.get("xmlUrl")) for o in outlines] == [
        ("So you want deep learning", "http://testserver/collections/deep/feed.rss")
    ]


@pytest.mark.parametrize(
    ("path", "feed"),
    [("/", "/feeds/catalogue.atom"), ("/collections/deep/", "/collections/deep/feed.atom"),
     ("/topics/deep-learning/", "/topics/deep-learning/feed.atom")],
)  # fmt: skip
def test_pages_point_feed_readers_to_their_feeds(client, catalogue, path, feed):
    page = BeautifulSoup(client.get(path).content, "html.parser")
    alternates = page.select('head link[rel="alternate"]')
    assert {link["type"] for link in alternates} == {
        "application/atom+xml", "application/rss+xml", "application/feed+json",
    }  # fmt: skip
    atom = next(link for link in alternates if link["type"] == "application/atom+xml")
    assert atom["href"] == f"http://testserver{feed}"
    assert client.get(atom["href"]).status_code == 200
