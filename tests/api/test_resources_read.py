from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from curation.models import Cost, Difficulty, HealthState, Kind, PublicationStatus
from tests.api.conftest import error_fields
from tests.factories import ItemFactory, ResourceFactory, TopicFactory

pytestmark = pytest.mark.django_db
LIST = "/api/v1/resources/"


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


def test_the_public_sees_published_resources_only(api):
    shown = ResourceFactory()
    ResourceFactory(status=PublicationStatus.DRAFT)
    ResourceFactory(status=PublicationStatus.ARCHIVED)
    assert ids(api.get(LIST)) == {shown.pk}


def test_broken_resources_are_hidden_unless_asked_for(api):
    fine = ResourceFactory()
    broken = ResourceFactory(health=HealthState.BROKEN)
    assert ids(api.get(LIST)) == {fine.pk}
    assert ids(api.get(LIST, {"health": "broken"})) == {broken.pk}


def test_health_filter_takes_several_states(api):
    moved = ResourceFactory(health=HealthState.MOVED)
    suspect = ResourceFactory(health=HealthState.SUSPECT)
    ResourceFactory(health=HealthState.HEALTHY)
    assert ids(api.get(f"{LIST}?health=moved&health=suspect")) == {moved.pk, suspect.pk}


def test_a_moved_resource_links_to_its_new_address(api):
    moved = ResourceFactory(health=HealthState.MOVED, suggested_url="https://new.example.test/")
    item = api.get(f"{LIST}{moved.pk}/").json()
    assert item["link"] == "https://new.example.test/"
    assert item["suggested_url"] == "https://new.example.test/"
    assert item["url"] == moved.url


def test_a_broken_resource_detail_has_no_link(api):
    broken = ResourceFactory(health=HealthState.BROKEN)
    item = api.get(f"{LIST}{broken.pk}/").json()
    assert item["health"] == "broken"
    assert item["link"] is None


def test_topic_filter_includes_subtopics(api):
    maths = TopicFactory(name="Maths")
    algebra = TopicFactory(name="Algebra", parent=maths)
    linear = TopicFactory(name="Linear", parent=algebra)
    other = TopicFactory(name="Other")
    in_root = ResourceFactory(topics=[maths])
    in_leaf = ResourceFactory(topics=[linear])
    in_two = ResourceFactory(topics=[algebra, linear])
    ResourceFactory(topics=[other])
    assert ids(api.get(LIST, {"topic": "maths"})) == {in_root.pk, in_leaf.pk, in_two.pk}
    assert ids(api.get(LIST, {"topic": "algebra"})) == {in_leaf.pk, in_two.pk}


def test_an_unknown_topic_is_400_naming_the_slug(api):
    ResourceFactory(topics=[TopicFactory()])
    response = api.get(LIST, {"topic": "no-such-topic"})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "topic", "code": "invalid", "message": "Unknown topic: no-such-topic."}
    ]


def test_a_known_topic_without_resources_is_an_empty_page(api):
    TopicFactory(name="Empty")
    assert ids(api.get(LIST, {"topic": "empty"})) == set()


def test_curators_see_each_rows_status_and_the_public_does_not(api, curator_api):
    ResourceFactory(status=PublicationStatus.DRAFT)
    ResourceFactory()
    rows = curator_api.get(LIST).json()["results"]
    assert sorted(row["status"] for row in rows) == ["draft", "published"]
    assert all("status" not in row for row in api.get(LIST).json()["results"])


def test_difficulty_filter_speaks_slugs(api):
    easy = ResourceFactory(difficulty=Difficulty.BEGINNER)
    hard = ResourceFactory(difficulty=Difficulty.ADVANCED)
    ResourceFactory(difficulty=Difficulty.INTERMEDIATE)
    assert ids(api.get(LIST, {"difficulty": "advanced"})) == {hard.pk}
    assert ids(api.get(f"{LIST}?difficulty=advanced&difficulty=beginner")) == {hard.pk, easy.pk}


def test_kind_filter(api):
    video = ResourceFactory(kind=Kind.VIDEO)
    ResourceFactory(kind=Kind.BOOK)
    assert ids(api.get(LIST, {"kind": "video"})) == {video.pk}


def test_free_filter(api):
    free = ResourceFactory(cost=Cost.FREE)
    paid = ResourceFactory(cost=Cost.PAID)
    assert ids(api.get(LIST, {"free": "true"})) == {free.pk}
    assert ids(api.get(LIST, {"free": "false"})) == {paid.pk}


def test_language_filter_matches_regional_forms(api):
    en = ResourceFactory(language="en")
    en_gb = ResourceFactory(language="en-GB")
    ResourceFactory(language="fr")
    ResourceFactory(language="eng")
    assert ids(api.get(LIST, {"language": "en"})) == {en.pk, en_gb.pk}


def test_max_duration_leaves_out_longer_and_unknown(api):
    short = ResourceFactory(duration_minutes=20)
    ResourceFactory(duration_minutes=90)
    ResourceFactory(duration_minutes=None)
    assert ids(api.get(LIST, {"max_duration": 30})) == {short.pk}


def test_featured_filter(api):
    featured = ResourceFactory(featured=True)
    ResourceFactory(featured=False)
    assert ids(api.get(LIST, {"featured": "true"})) == {featured.pk}


def test_collection_filter(api):
    item = ItemFactory()
    ResourceFactory()
    assert ids(api.get(LIST, {"collection": item.section.collection.slug})) == {item.resource.pk}


def test_modified_since_returns_what_changed_after(api):
    with time_machine.travel(timezone.now() - timedelta(days=10)):
        ResourceFactory()
    recent = ResourceFactory()
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(api.get(LIST, {"modified_since": since})) == {recent.pk}


def test_modified_since_includes_a_health_change(api):
    with time_machine.travel(timezone.now() - timedelta(days=10)):
        changed = ResourceFactory()
    changed.__class__.objects.filter(pk=changed.pk).update(
        health=HealthState.MOVED, health_changed_at=timezone.now()
    )
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(api.get(LIST, {"modified_since": since})) == {changed.pk}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"difficulty": "expert"}, "difficulty"),
        ({"kind": "hologram"}, "kind"),
        ({"health": "dead"}, "health"),
        ({"free": "maybe"}, "free"),
        ({"featured": "yes please"}, "featured"),
        ({"max_duration": "long"}, "max_duration"),
        ({"max_duration": "-1"}, "max_duration"),
        ({"modified_since": "last tuesday"}, "modified_since"),
        ({"ordering": "url"}, "ordering"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "201"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"page_size": "５"}, "page_size"),
        ({"page_size": "1_0"}, "page_size"),
        ({"max_duration": ""}, "max_duration"),
        ({"modified_since": ""}, "modified_since"),
    ],
)
def test_a_bad_parameter_gets_400_naming_it(api, params, field):
    response = api.get(LIST, params)
    assert response.status_code == 400
    assert field in error_fields(response)
    assert all(e["message"] for e in response.json()["errors"])


def test_a_bad_cursor_is_404_naming_it(api):
    response = api.get(LIST, {"cursor": "not-a-cursor"})
    assert response.status_code == 404
    assert error_fields(response) == ["cursor"]


def test_nul_characters_in_a_search_are_dropped(api):
    hit = ResourceFactory(title="Entropy")
    assert ids(api.get(LIST, {"q": "entr\x00opy"})) == {hit.pk}


def test_ordering_by_title(api):
    b = ResourceFactory(title="Beta")
    a = ResourceFactory(title="Alpha")
    c = ResourceFactory(title="Gamma")
    response = api.get(LIST, {"ordering": "title"})
    assert [i["id"] for i in response.json()["results"]] == [a.pk, b.pk, c.pk]
    response = api.get(LIST, {"ordering": "-title"})
    assert [i["id"] for i in response.json()["results"]] == [c.pk, b.pk, a.pk]


def test_default_order_is_newest_first(api):
    old = ResourceFactory()
    new = ResourceFactory()
    assert [i["id"] for i in api.get(LIST).json()["results"]] == [new.pk, old.pk]


@pytest.mark.parametrize("ordering", ["-created_at", "title", "difficulty", "-difficulty", "id"])
def test_cursor_pages_walk_every_row_once_forwards_and_back(api, ordering):
    for n in range(23):
        ResourceFactory(title=f"T{n % 4}", difficulty=[1, 2, 3][n % 3])
    seen, pages, url = [], [], f"{LIST}?page_size=5&ordering={ordering}"
    while url:
        body = api.get(url).json()
        pages.append([i["id"] for i in body["results"]])
        seen += pages[-1]
        last, url = url, body["next"]
    assert len(seen) == 23 and len(set(seen)) == 23
    # Walk back from the last page with the `previous` links.
    back = []
    url = api.get(last).json()["previous"]
    while url:
        body = api.get(url).json()
        back.insert(0, [i["id"] for i in body["results"]])
        url = body["previous"]
    assert back == pages[:-1]


def test_page_size_is_capped(api, settings):
    settings.API_MAX_PAGE_SIZE = 3
    for _ in range(4):
        ResourceFactory()
    assert api.get(LIST, {"page_size": 3}).status_code == 200
    response = api.get(LIST, {"page_size": 4})
    assert response.status_code == 400
    assert error_fields(response) == ["page_size"]


def test_a_cursor_from_another_ordering_is_refused(api):
    for _ in range(3):
        ResourceFactory()
    next_url = api.get(LIST, {"page_size": 1, "ordering": "title"}).json()["next"]
    cursor = next_url.split("cursor=")[1].split("&")[0]
    response = api.get(LIST, {"cursor": cursor, "ordering": "-created_at"})
    assert response.status_code == 404
    assert error_fields(response) == ["cursor"]


def test_search_finds_words_in_title_and_note(api):
    hit = ResourceFactory(title="Gradient descent explained")
    note = ResourceFactory(title="A video", curator_note="The clearest gradient intuition")
    ResourceFactory(title="Convolutions")
    assert ids(api.get(LIST, {"q": "gradient"})) == {hit.pk, note.pk}


def test_search_ranks_title_matches_first(api):
    note = ResourceFactory(title="A video", curator_note="all about backpropagation")
    title = ResourceFactory(title="Backpropagation step by step")
    results = api.get(LIST, {"q": "backpropagation"}).json()["results"]
    assert [r["id"] for r in results] == [title.pk, note.pk]


def test_search_pages_by_relevance(api):
    for n in range(7):
        ResourceFactory(title=f"Neural networks {n}", description="neural " * (n % 3))
    seen, url = [], f"{LIST}?q=neural&page_size=3"
    while url:
        body = api.get(url).json()
        seen += [i["id"] for i in body["results"]]
        url = body["next"]
    assert len(seen) == 7 and len(set(seen)) == 7


def test_search_does_not_show_broken_or_drafts(api):
    ResourceFactory(title="Entropy", health=HealthState.BROKEN)
    ResourceFactory(title="Entropy", status=PublicationStatus.DRAFT)
    shown = ResourceFactory(title="Entropy")
    assert ids(api.get(LIST, {"q": "entropy"})) == {shown.pk}


def test_detail_of_a_draft_is_404_for_the_public(api):
    draft = ResourceFactory(status=PublicationStatus.DRAFT)
    response = api.get(f"{LIST}{draft.pk}/")
    assert response.status_code == 404
    assert response.json()["errors"][0]["message"]


@pytest.mark.parametrize("pk", ["abc", "99999999999999999999999", "-1", "0"])
def test_odd_ids_are_404_not_500(api, pk):
    assert api.get(f"{LIST}{pk}/").status_code == 404


def test_curators_see_drafts_and_may_filter_by_status(curator_api):
    draft = ResourceFactory(status=PublicationStatus.DRAFT)
    published = ResourceFactory()
    assert ids(curator_api.get(LIST)) == {draft.pk, published.pk}
    assert ids(curator_api.get(LIST, {"status": "draft"})) == {draft.pk}
    assert curator_api.get(f"{LIST}{draft.pk}/").status_code == 200


def test_detail_carries_system_fields(api):
    resource = ResourceFactory(fetched_metadata={"title": {"value": "T", "source": "og:title"}})
    body = api.get(f"{LIST}{resource.pk}/").json()
    assert body["status"] == "published"
    assert body["metadata"]["title"]["value"] == "T"
    assert body["difficulty"] == "beginner"


def _cursor(payload: dict) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "payload",
    [
        {"o": "-id", "v": None, "id": 2**70, "d": "n"},
        {"o": "title", "v": "a\x00b", "id": 1, "d": "n"},
        {"o": "-created_at", "v": "2026-13-45T99:00:00", "id": 1, "d": "n"},
        {"o": "difficulty", "v": 2**80, "id": 1, "d": "n"},
        {"o": "-id", "v": None, "id": True, "d": "n"},
        {"o": "-id", "v": None, "id": 1, "d": "sideways"},
        ["not", "an", "object"],
    ],
)
def test_a_forged_cursor_is_404_not_500(api, payload):
    ResourceFactory()
    ordering = payload["o"] if isinstance(payload, dict) else "-id"
    response = api.get(LIST, {"cursor": _cursor(payload), "ordering": ordering})
    assert response.status_code == 404
    assert error_fields(response) == ["cursor"]


def test_modified_since_with_an_offset_postgres_refuses_is_read_in_utc(api):
    # ISO 8601 allows offsets up to ±23:59; PostgreSQL only ±15:59. The same moment in UTC.
    recent = ResourceFactory(status="published")
    response = api.get(LIST, {"modified_since": "2000-01-01T00:00:00+20:29"})
    assert response.status_code == 200
    assert recent.pk in ids(response)
