from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup
from pyld import jsonld

from api.jsonld import iso_duration
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db

SCHEMA = "https://schema.org/"
# Every schema.org term the site and the API may use: a new term must be added here on
# purpose, after checking it on schema.org.
SCHEMA_TERMS = {
    # types
    "WebSite", "ItemList", "ListItem", "LearningResource", "Course", "VideoObject", "Book",
    "Person",
    # properties
    "name", "description", "url", "itemListOrder", "numberOfItems", "itemListElement",
    "position", "item", "educationalLevel", "timeRequired", "isAccessibleForFree",
    "inLanguage", "teaches", "competencyRequired", "author",
}  # fmt: skip
# The machines are offline: the processor gets schema.org's context from here, reduced to
# what matters for expansion (every term in the schema.org vocabulary).
LOCAL_CONTEXTS = {"https://schema.org": {"@context": {"@vocab": SCHEMA}}}


def offline_loader(url, options=None):
    return {"contextUrl": None, "documentUrl": url, "document": LOCAL_CONTEXTS[url.rstrip("/")]}


def expand(document: dict) -> list:
    return jsonld.expand(document, {"documentLoader": offline_loader})


def terms_used(expanded) -> set[str]:
    found: set[str] = set()
    if isinstance(expanded, list):
        for value in expanded:
            found |= terms_used(value)
    elif isinstance(expanded, dict):
        for key, value in expanded.items():
            if key == "@type":
                found |= set(value)
            elif not key.startswith("@"):
                found.add(key)
            found |= terms_used(value)
    return found


def assert_schema_org(document: dict) -> list:
    expanded = expand(document)
    assert expanded, "the processor found no data"
    unknown = {t for t in terms_used(expanded) if t.removeprefix(SCHEMA) not in SCHEMA_TERMS}
    assert not unknown, f"terms outside the fixed list: {sorted(unknown)}"
    assert jsonld.to_rdf(
        document, {"documentLoader": offline_loader, "format": "application/n-quads"}
    )
    return expanded


def page_jsonld(client, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200
    scripts = BeautifulSoup(response.content, "html.parser").select(
        'script[type="application/ld+json"]'
    )
    assert len(scripts) == 1
    return json.loads(scripts[0].string)


@pytest.mark.parametrize(
    "path", ["/", "/topics/deep-learning/", "/collections/deep/", "/search/?q=deep"]
)
def test_every_page_carries_json_ld_in_schema_org_terms(client, catalogue, path):
    assert_schema_org(page_jsonld(client, path))


def test_a_resource_page_carries_json_ld_in_schema_org_terms(client, catalogue):
    document = page_jsonld(client, f"/resources/{catalogue['video'].pk}/")
    assert_schema_org(document)
    assert document["@type"] == ["LearningResource", "VideoObject"]


def test_a_collection_page_is_an_item_list_in_the_apis_order(client, catalogue):
    document = page_jsonld(client, "/collections/deep/")
    api = client.get("/api/v1/collections/deep/").json()
    ids = [i["resource"]["id"] for s in api["sections"] for i in s["items"]]
    assert document["@type"] == "ItemList"
    assert [e["position"] for e in document["itemListElement"]] == [1, 2, 3]
    assert [
        e["item"]["@id"].rstrip("/").rsplit("/", 1)[1] for e in document["itemListElement"]
    ] == [str(pk) for pk in ids]


@pytest.mark.parametrize(
    "kwargs",
    [{"format": "jsonld"}, {"HTTP_ACCEPT": "application/ld+json"}],
    ids=["format", "accept"],
)
def test_the_api_collection_detail_speaks_json_ld(client, catalogue, kwargs):
    query = {"format": "jsonld"} if "format" in kwargs else {}
    headers = {k: v for k, v in kwargs.items() if k != "format"}
    response = client.get("/api/v1/collections/deep/", query, **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    document = json.loads(response.content)
    assert_schema_org(document)
    items = [e["item"] for e in document["itemListElement"]]
    assert [i["@type"] for i in items] == [
        ["LearningResource", "VideoObject"],
        ["LearningResource", "Course"],
        ["LearningResource", "Book"],
    ]
    video, course, book = items
    assert video["timeRequired"] == "PT3H10M"
    assert video["educationalLevel"] == "Beginner"
    assert video["inLanguage"] == "en"
    assert video["teaches"] == ["Linear algebra"]
    assert video["author"] == {"@type": "Person", "name": "3Blue1Brown"}
    assert course["competencyRequired"] == ["Linear algebra"]
    assert course["url"] == "https://example.test/moved-course"
    assert (video["isAccessibleForFree"], book["isAccessibleForFree"]) == (True, False)


def test_a_broken_item_in_json_ld_has_no_url(client, catalogue):
    response = client.get("/api/v1/collections/deep/", {"format": "jsonld"})
    book = json.loads(response.content)["itemListElement"][2]["item"]
    assert book["name"] == "The Deep Learning Book"
    assert "url" not in book


def test_the_api_resource_detail_speaks_json_ld(client, catalogue):
    pk = catalogue["course"].pk
    response = client.get(f"/api/v1/resources/{pk}/", HTTP_ACCEPT="application/ld+json")
    document = json.loads(response.content)
    assert_schema_org(document)
    assert document["@type"] == ["LearningResource", "Course"]
    assert document["teaches"] == ["Deep learning"]


def test_the_api_still_answers_json_by_default(client, catalogue):
    response = client.get("/api/v1/collections/deep/")
    assert response["Content-Type"] == "application/json"
    assert "sections" in response.json()


def test_a_draft_is_not_found_in_json_ld_either(client, catalogue):
    response = client.get(f"/api/v1/resources/{catalogue['draft'].pk}/", {"format": "jsonld"})
    assert response.status_code == 404


def test_catalogue_text_cannot_close_the_script_element(client, catalogue):
    sneaky = ResourceFactory(title="</script><script>alert(1)</script>")
    html = client.get(f"/resources/{sneaky.pk}/").content.decode()
    assert "<script>alert(1)" not in html
    assert page_jsonld(client, f"/resources/{sneaky.pk}/")["name"] == sneaky.title


@pytest.mark.parametrize(
    ("minutes", "duration"),
    [(None, None), (0, "PT0M"), (45, "PT45M"), (60, "PT1H"), (90, "PT1H30M")],
)
def test_durations_are_iso_8601(minutes, duration):
    assert iso_duration(minutes) == duration


def test_lists_do_not_offer_json_ld(client, catalogue):
    assert client.get("/api/v1/collections/", {"format": "jsonld"}).status_code == 404
    listed = client.get("/api/v1/resources/", HTTP_ACCEPT="application/ld+json")
    assert listed.status_code == 406


def test_the_api_schema_stays_plain_json(client, catalogue):
    schema = client.get("/api/schema/", {"format": "json"}).content.decode()
    assert "ld+json" not in schema
