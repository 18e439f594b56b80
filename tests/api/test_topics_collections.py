from __future__ import annotations

import pytest

from curation.models import Collection, HealthState, PublicationStatus, Topic
from tests.api.conftest import error_fields
from tests.factories import (
    CollectionFactory,
    ItemFactory,
    ResourceFactory,
    SectionFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db
TOPICS = "/api/v1/topics/"
COLLECTIONS = "/api/v1/collections/"


@pytest.fixture
def maths_tree():
    maths = TopicFactory(name="Maths")
    algebra = TopicFactory(name="Algebra", parent=maths)
    calculus = TopicFactory(name="Calculus", parent=maths)
    linear = TopicFactory(name="Linear", parent=algebra)
    gradient = TopicFactory(name="Gradient")
    gradient.prerequisites.set([calculus, linear])
    calculus.prerequisites.set([algebra])
    return maths, algebra, calculus, linear, gradient


def test_topics_list_is_the_tree_depth_first(api, maths_tree):
    body = api.get(TOPICS).json()
    assert [(t["slug"], t["depth"]) for t in body] == [
        ("gradient", 0), ("maths", 0), ("algebra", 1), ("linear", 2), ("calculus", 1),
    ]  # fmt: skip
    maths = next(t for t in body if t["slug"] == "maths")
    assert maths["children"] == ["algebra", "calculus"]
    assert next(t for t in body if t["slug"] == "gradient")["prerequisites"] == [
        "calculus", "linear"
    ]  # fmt: skip


def test_topic_counts_leave_out_broken_and_unpublished(api, maths_tree):
    maths, algebra, *_ = maths_tree
    ResourceFactory(topics=[algebra])
    ResourceFactory(topics=[algebra, maths])
    ResourceFactory(topics=[algebra], health=HealthState.BROKEN)
    ResourceFactory(topics=[algebra], status=PublicationStatus.DRAFT)
    body = {t["slug"]: t for t in api.get(TOPICS).json()}
    assert body["algebra"]["resource_count"] == 2
    assert body["maths"]["resource_count"] == 1
    detail = api.get(f"{TOPICS}maths/").json()
    assert detail["subtree_resource_count"] == 2


def test_topic_detail_follows_prerequisites(api, maths_tree):
    body = api.get(f"{TOPICS}gradient/").json()
    assert [t["slug"] for t in body["prerequisite_topics"]] == ["calculus", "linear"]
    # Transitively, foundations first: algebra comes before calculus, which needs it.
    order = [t["slug"] for t in body["all_prerequisites"]]
    assert set(order) == {"algebra", "calculus", "linear"}
    assert order.index("algebra") < order.index("calculus")
    linear = api.get(f"{TOPICS}linear/").json()
    assert [t["slug"] for t in linear["ancestors"]] == ["maths", "algebra"]
    assert [t["slug"] for t in linear["required_by"]] == ["gradient"]


def test_unknown_topic_is_404(api):
    assert api.get(f"{TOPICS}nothing/").status_code == 404


def test_a_curator_creates_a_topic_with_prerequisites(curator_api, maths_tree):
    response = curator_api.post(
        TOPICS,
        {"name": "Deep learning", "slug": "deep-learning", "parent": "maths",
         "prerequisites": ["gradient"]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    topic = Topic.objects.get(slug="deep-learning")
    assert topic.parent.slug == "maths"
    assert [t.slug for t in topic.prerequisites.all()] == ["gradient"]


def test_a_prerequisite_cycle_is_400_naming_the_field(curator_api, maths_tree):
    response = curator_api.patch(
        f"{TOPICS}algebra/", {"prerequisites": ["gradient"]}, format="json"
    )
    assert response.status_code == 400
    assert error_fields(response) == ["prerequisites"]
    assert "cycle" in response.json()["errors"][0]["message"].lower()


def test_a_parent_cycle_is_400_naming_the_field(curator_api, maths_tree):
    response = curator_api.patch(f"{TOPICS}maths/", {"parent": "linear"}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == ["parent"]


def test_a_taken_topic_slug_is_400(curator_api, maths_tree):
    response = curator_api.post(TOPICS, {"name": "Again", "slug": "maths"}, format="json")
    assert response.status_code == 400
    assert "slug" in error_fields(response)


def test_anonymous_cannot_create_topics(api):
    assert api.post(TOPICS, {"name": "X", "slug": "x"}, format="json").status_code == 401


@pytest.fixture
def deep_learning_list():
    collection = CollectionFactory(title="So you are interested in deep learning")
    second = SectionFactory(collection=collection, title="Practice", position=2)
    first = SectionFactory(collection=collection, title="Convolutions", position=1)
    b = ItemFactory(section=first, position=2, note="then this", required=False)
    a = ItemFactory(section=first, position=1, note="start here")
    broken = ItemFactory(
        section=second, position=1, resource=ResourceFactory(health=HealthState.BROKEN)
    )
    draft = ItemFactory(
        section=second, position=2, resource=ResourceFactory(status=PublicationStatus.DRAFT)
    )
    return collection, a, b, broken, draft


def test_collection_detail_has_ordered_sections_and_items(api, deep_learning_list):
    collection, a, b, _, _ = deep_learning_list
    body = api.get(f"{COLLECTIONS}{collection.slug}/").json()
    assert [s["title"] for s in body["sections"]] == ["Convolutions", "Practice"]
    first = body["sections"][0]["items"]
    assert [i["resource"]["id"] for i in first] == [a.resource.pk, b.resource.pk]
    assert first[0]["note"] == "start here"
    assert first[1]["required"] is False
    assert first[0]["resource"]["health"] == "healthy"


def test_collection_items_show_broken_health_without_a_link_and_hide_drafts(
    api, deep_learning_list
):
    collection, _, _, broken, _ = deep_learning_list
    practice = api.get(f"{COLLECTIONS}{collection.slug}/").json()["sections"][1]["items"]
    assert [i["resource"]["id"] for i in practice] == [broken.resource.pk]
    assert practice[0]["resource"]["health"] == "broken"
    assert practice[0]["resource"]["link"] is None


def test_collection_list_counts_and_hides_drafts(api, deep_learning_list):
    CollectionFactory(status=PublicationStatus.DRAFT)
    body = api.get(COLLECTIONS).json()
    assert len(body["results"]) == 1
    assert body["results"][0]["section_count"] == 2
    assert body["results"][0]["item_count"] == 4


def test_a_curator_creates_a_collection_with_its_outline(curator_api, curator):
    r1, r2, r3 = ResourceFactory(), ResourceFactory(), ResourceFactory()
    payload = {
        "title": "Start here",
        "slug": "start-here",
        "status": "published",
        "sections": [
            {"title": "Basics", "items": [{"resource": r2.pk, "note": "first"},
                                          {"resource": r1.pk, "required": False}]},
            {"title": "Next", "intro": "When ready", "items": [{"resource": r3.pk}]},
        ],
    }  # fmt: skip
    response = curator_api.post(COLLECTIONS, payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert [s["title"] for s in body["sections"]] == ["Basics", "Next"]
    assert [i["resource"]["id"] for i in body["sections"][0]["items"]] == [r2.pk, r1.pk]
    assert Collection.objects.get(slug="start-here").author == curator


def test_replacing_the_outline_reorders_items(curator_api):
    item_a = ItemFactory(position=1)
    collection = item_a.section.collection
    item_b = ItemFactory(section=item_a.section, position=2)
    payload = {
        "sections": [
            {
                "title": "Only",
                "items": [{"resource": item_b.resource.pk}, {"resource": item_a.resource.pk}],
            }
        ]
    }
    response = curator_api.patch(f"{COLLECTIONS}{collection.slug}/", payload, format="json")
    assert response.status_code == 200, response.content
    items = response.json()["sections"][0]["items"]
    assert [i["resource"]["id"] for i in items] == [item_b.resource.pk, item_a.resource.pk]


def test_an_archived_resource_cannot_be_listed(curator_api):
    archived = ResourceFactory(status=PublicationStatus.ARCHIVED)
    payload = {"title": "T", "slug": "t", "sections": [{"title": "S",
               "items": [{"resource": archived.pk}]}]}  # fmt: skip
    response = curator_api.post(COLLECTIONS, payload, format="json")
    assert response.status_code == 400
    assert error_fields(response) == ["sections.0.items.0.resource"]


def test_an_unknown_resource_in_an_outline_is_named(curator_api):
    payload = {"title": "T", "slug": "t", "sections": [{"title": "S",
               "items": [{"resource": 999999}]}]}  # fmt: skip
    response = curator_api.post(COLLECTIONS, payload, format="json")
    assert response.status_code == 400
    assert error_fields(response) == ["sections.0.items.0.resource"]


def test_archiving_a_collection_hides_it(curator_api, api):
    collection = CollectionFactory()
    assert curator_api.post(f"{COLLECTIONS}{collection.slug}/archive/").status_code == 200
    assert api.get(f"{COLLECTIONS}{collection.slug}/").status_code == 404


def test_a_patched_section_without_a_title_is_400_naming_it(curator_api):
    item = ItemFactory(section=SectionFactory(title="Kept"))
    collection = item.section.collection
    payload = {"title": "Renamed", "sections": [{"intro": "no title", "items": [{"note": "x"}]}]}
    response = curator_api.patch(f"{COLLECTIONS}{collection.slug}/", payload, format="json")
    assert response.status_code == 400
    assert set(error_fields(response)) == {"sections.0.title", "sections.0.items.0.resource"}
    collection.refresh_from_db()
    assert collection.title != "Renamed"
    assert list(collection.sections.values_list("title", flat=True)) == ["Kept"]


@pytest.mark.parametrize("method", ["post", "put", "patch"])
@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"bogus": 1}, "bogus", "unknown_field"),
        ({"resource_count": 3}, "resource_count", "read_only"),
    ],
)
def test_a_topic_field_the_client_may_not_set_is_400_naming_it(
    curator_api, method, body, field, code
):
    TopicFactory(name="Kept")
    url = TOPICS if method == "post" else f"{TOPICS}kept/"
    response = getattr(curator_api, method)(url, {"name": "N", "slug": "n", **body}, format="json")
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]
    assert list(Topic.objects.values_list("slug", flat=True)) == ["kept"]


@pytest.mark.parametrize("method", ["post", "put", "patch"])
@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"bogus": 1}, "bogus", "unknown_field"),
        ({"item_count": 3}, "item_count", "read_only"),
        ({"sections": [{"title": "S", "position": 2}]}, "sections.0.position", "read_only"),
        ({"sections": [{"title": "S", "items": [{"resource": 0, "x": 1}]}]},
         "sections.0.items.0.x", "unknown_field"),
    ],
)  # fmt: skip
def test_a_collection_field_the_client_may_not_set_is_400_naming_it(
    curator_api, method, body, field, code
):
    CollectionFactory(slug="kept", title="Kept")
    url = COLLECTIONS if method == "post" else f"{COLLECTIONS}kept/"
    sent = {"title": "N", "slug": "n", **body}
    response = getattr(curator_api, method)(url, sent, format="json")
    assert response.status_code == 400
    assert (field, code) in [(e["field"], e["code"]) for e in response.json()["errors"]]
    assert list(Collection.objects.values_list("title", flat=True)) == ["Kept"]
