from __future__ import annotations

import pytest

from curation.models import Cost, Difficulty, HealthState, Kind, PublicationStatus
from tests.api.conftest import error_fields
from tests.factories import (
    CollectionFactory,
    ItemFactory,
    ResourceFactory,
    SectionFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/recommendations/"
B, INT, A = Difficulty.BEGINNER, Difficulty.INTERMEDIATE, Difficulty.ADVANCED


@pytest.fixture
def catalogue():
    """Gradient descent needs calculus and linear algebra; SGD is a subtopic of it."""
    linear = TopicFactory(name="Linear algebra", slug="linear-algebra")
    calculus = TopicFactory(name="Calculus")
    gd = TopicFactory(name="Gradient descent", slug="gradient-descent")
    sgd = TopicFactory(name="SGD", parent=gd)
    gd.prerequisites.set([linear, calculus])

    def make(name, topic, difficulty, kind=Kind.ARTICLE, **extra):
        return ResourceFactory(
            title=name, topics=[topic], difficulty=difficulty, kind=kind, **extra
        )

    r = {
        "la1": make("LA video", linear, B, Kind.VIDEO),
        "la2": make("LA article", linear, B),
        "la3": make("LA book", linear, B, Kind.BOOK),
        "la_int": make("LA intermediate", linear, INT),
        "c1": make("Calculus article", calculus, B, duration_minutes=15),
        "gd_feat": make("GD featured", gd, B, featured=True),
        "gd_video": make("GD video", gd, B, Kind.VIDEO, duration_minutes=10),
        "gd_pick": make("GD pick", gd, B, cost=Cost.PAID),
        "gd_plain": make("GD plain", gd, B),
        "gd_int": make("GD intermediate", gd, INT, Kind.VIDEO),
        "sgd_int": make("SGD intermediate", sgd, INT),
        "gd_adv": make("GD advanced", gd, A, Kind.PAPER),
        "gd_moved": make("GD moved", gd, A, health=HealthState.MOVED,
                         suggested_url="https://moved.example.test/"),
        "broken": make("GD broken", gd, B, health=HealthState.BROKEN),
        "unknown": make("GD unknown", gd, B, health=HealthState.UNKNOWN),
        "suspect": make("GD suspect", gd, B, health=HealthState.SUSPECT),
        "draft": make("GD draft", gd, B, status=PublicationStatus.DRAFT),
    }  # fmt: skip
    section = SectionFactory(collection=CollectionFactory(title="Deep learning list"))
    ItemFactory(section=section, resource=r["gd_pick"])
    # A pick only in a draft list is no curator pick yet.
    draft_list = CollectionFactory(title="Unpublished", status=PublicationStatus.DRAFT)
    ItemFactory(section=SectionFactory(collection=draft_list), resource=r["gd_plain"])
    return r


def recommend(api, **params):
    response = api.get(URL, {"topic": "gradient-descent", **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def titles(results):
    return [item["resource"]["title"] for item in results]


def test_a_beginner_gets_prerequisite_beginner_material_first(api, catalogue):
    results = recommend(api, level="beginner", limit=10)
    prereq = [i for i in results if any("prerequisite" in r for r in i["reasons"])]
    assert results[: len(prereq)] == prereq and len(prereq) == 3
    # Foundations in name order (calculus, then linear algebra), two per topic at most.
    # Kinds mixed: after an article comes the video rather than another article.
    assert titles(prereq) == ["Calculus article", "LA video", "LA article"]
    assert "covers prerequisite: Linear algebra" in prereq[1]["reasons"]
    assert "LA intermediate" not in titles(results)


def test_never_a_dead_unknown_suspect_or_unpublished_link(api, catalogue):
    for level in ("beginner", "intermediate", "advanced"):
        shown = titles(recommend(api, level=level, limit=50))
        assert not {"GD broken", "GD unknown", "GD suspect", "GD draft"} & set(shown)


def test_every_item_carries_reasons(api, catalogue):
    results = recommend(api, level="beginner", limit=50)
    assert results and all(item["reasons"] for item in results)


def test_topic_band_goes_up_in_difficulty_with_picks_and_featured_first(api, catalogue):
    results = [i for i in recommend(api, level="beginner", limit=50)
               if not any("prerequisite" in r for r in i["reasons"])]  # fmt: skip
    levels = [i["resource"]["difficulty"] for i in results]
    assert levels == sorted(levels, key=["beginner", "intermediate", "advanced"].index)
    assert titles(results)[:2] == ["GD pick", "GD featured"]
    assert "curator pick: Deep learning list" in results[0]["reasons"]
    assert "featured" in results[1]["reasons"]
    assert "matches your level" in results[0]["reasons"]
    intermediate = next(i for i in results if i["resource"]["difficulty"] == "intermediate")
    assert "next step: intermediate" in intermediate["reasons"]


def test_subtopics_are_included(api, catalogue):
    assert "SGD intermediate" in titles(recommend(api, level="intermediate"))


def test_an_intermediate_learner_skips_prerequisites_and_easier_material(api, catalogue):
    results = recommend(api, level="intermediate", limit=50)
    assert {i["resource"]["difficulty"] for i in results} == {"intermediate", "advanced"}
    assert not any("prerequisite" in r for i in results for r in i["reasons"])


def test_kinds_are_mixed_when_they_can_be(api, db):
    topic = TopicFactory(name="Optics")
    for kind in [Kind.VIDEO, Kind.VIDEO, Kind.VIDEO, Kind.ARTICLE, Kind.ARTICLE, Kind.BOOK]:
        ResourceFactory(topics=[topic], kind=kind)
    results = api.get(URL, {"topic": "optics"}).json()["results"]
    kinds = [i["resource"]["kind"] for i in results]
    assert kinds == ["video", "article", "video", "article", "video", "book"]


def test_curator_picks_stay_ahead_of_kind_mixing(api, catalogue):
    beginner = [i["resource"] for i in recommend(api, level="beginner", limit=50)]
    topic_beginner = [r["title"] for r in beginner if r["title"].startswith("GD")
                      and r["difficulty"] == "beginner"]  # fmt: skip
    assert topic_beginner == ["GD pick", "GD featured", "GD video", "GD plain"]


def test_the_same_question_gets_the_same_answer(api, catalogue):
    first = recommend(api, level="beginner", limit=20)
    assert all(recommend(api, level="beginner", limit=20) == first for _ in range(3))


def test_a_moved_link_is_served_at_its_new_address(api, catalogue):
    moved = next(
        i for i in recommend(api, level="advanced") if i["resource"]["title"] == "GD moved"
    )
    assert moved["resource"]["link"] == "https://moved.example.test/"
    assert any("moved" in r for r in moved["reasons"])


def test_exclude_kind_minutes_free_and_limit(api, catalogue):
    done = f"{catalogue['gd_pick'].pk},{catalogue['c1'].pk}"
    assert not {"GD pick", "Calculus article"} & set(titles(recommend(api, exclude=done)))
    assert set(titles(recommend(api, kind="video"))) == {"LA video", "GD video", "GD intermediate"}
    assert set(titles(recommend(api, max_minutes=20))) == {"Calculus article", "GD video"}
    assert "GD pick" not in titles(recommend(api, free="true", limit=50))
    assert len(recommend(api, limit=2)) == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "topic"),
        ({"topic": "gradient-descent", "level": "guru"}, "level"),
        ({"topic": "gradient-descent", "limit": "0"}, "limit"),
        ({"topic": "gradient-descent", "limit": "51"}, "limit"),
        ({"topic": "gradient-descent", "exclude": "1,x"}, "exclude"),
        ({"topic": "gradient-descent", "max_minutes": "soon"}, "max_minutes"),
        ({"topic": "gradient-descent", "kind": "hologram"}, "kind"),
        # int() reads fullwidth and Arabic-Indic digits and underscores; the API does not.
        ({"topic": "gradient-descent", "limit": "５"}, "limit"),
        ({"topic": "gradient-descent", "limit": "5_0"}, "limit"),
        ({"topic": "gradient-descent", "max_minutes": "٣"}, "max_minutes"),
    ],
)
def test_bad_parameters_are_400_naming_them(api, catalogue, params, field):
    response = api.get(URL, params)
    assert response.status_code == 400
    assert error_fields(response) == [field]


def test_an_unknown_topic_is_400_naming_it_as_on_the_resource_list(api, db):
    response = api.get(URL, {"topic": "astrology"})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "topic", "code": "invalid", "message": "Unknown topic: astrology."}
    ]
    listed = api.get("/api/v1/resources/", {"topic": "astrology"})
    assert (listed.status_code, listed.json()["errors"]) == (400, response.json()["errors"])
