from __future__ import annotations

import pytest
from django.db import connection

from curation.catalog import selectors
from curation.catalog.search import SEARCH_INDEX_NAME
from curation.models import Resource
from tests.factories import ResourceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
LIST = "/api/v1/resources/"


def test_search_uses_the_gin_index(db):
    for n in range(30):
        ResourceFactory(title=f"Filler {n}")
    ResourceFactory(title="Stochastic gradient descent")
    query = selectors.search_resources(Resource.objects.all(), "gradient descent")
    with connection.cursor() as cursor:
        # With a handful of rows a sequential scan is cheaper; forbid it to learn whether
        # the planner *can* use the index, i.e. whether the expressions match exactly.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()
    assert SEARCH_INDEX_NAME in plan


def test_websearch_syntax_quotes_and_negation(api):
    wanted = ResourceFactory(title="Gradient descent for beginners")
    ResourceFactory(title="Gradient boosting trees")
    ResourceFactory(title="Descent of gradient", description="")
    found = api.get(LIST, {"q": '"gradient descent" -boosting'}).json()["results"]
    assert [r["id"] for r in found] == [wanted.pk]


def test_stemming_matches_word_forms(api):
    hit = ResourceFactory(title="Convolutional networks", description="convolutions explained")
    found = api.get(LIST, {"q": "convolution"}).json()["results"]
    assert [r["id"] for r in found] == [hit.pk]


def test_title_weight_ranks_above_description(api):
    in_description = ResourceFactory(title="A lecture", description="embeddings")
    in_title = ResourceFactory(title="Embeddings", description="")
    found = api.get(LIST, {"q": "embeddings"}).json()["results"]
    assert [r["id"] for r in found] == [in_title.pk, in_description.pk]


@pytest.mark.parametrize("text", ["!!!", "the", "&|:*", "a & | ! b", "'", "\\"])
def test_odd_search_text_never_fails(api, text):
    assert api.get(LIST, {"q": text}).status_code == 200


# --- Relevance tiers: a one-word search reads its title matches first (issue 21, item 3) -----


def _corpus(word: str) -> None:
    """Rows ranking every way a word can: in the title once or twice, in the author, in the
    note many times (the most a non-title row can make of it), in the description, in
    nothing; and rows with a second word close by or far away, for two-word searches."""
    filler = "lorem ipsum dolor sit amet " * 3
    for n in range(4):
        ResourceFactory(title=f"{word} primer {n}", description=filler)
        ResourceFactory(title=f"{word} and {word} again {n}", description=f"{word} {filler}")
        ResourceFactory(title=f"Notes {n}", curator_note=f"{word} " * 12, description=filler)
        ResourceFactory(title=f"By the author {n}", author=word, description=filler)
        ResourceFactory(title=f"Lecture {n}", description=f"{filler} {word} {filler} {word}")
        ResourceFactory(title=f"Unrelated {n}", description=filler)
        ResourceFactory(title=f"{word} far {n}", description=f"{filler * 3} tensor")
        ResourceFactory(title=f"Course {n}", description=f"{word} tensor {filler}")
        # Both words in the title, far apart, rank below both side by side many times in a
        # description: for two words a title match is no bound (0.30 against 1.00).
        ResourceFactory(title=f"{word} {filler} tensor {n}", description=filler)
        ResourceFactory(title=f"Drill {n}", description=f"{word} tensor " * 20)


def _one_query_order(text: str) -> list[int]:
    """The order a single statement ranking every match gives (the code before the tiers)."""
    found = selectors.search_resources(Resource.objects.published(), text)
    found = selectors.filter_by_health(found, [])
    return list(found.order_by("-search_rank", "-id").values_list("id", flat=True))


def _walk(api, text: str, page_size: int) -> tuple[list[int], list[list[int]]]:
    """Every id, following `next` to the end, and the pages followed back by `previous`."""
    pages, url, params = [], LIST, {"q": text, "page_size": page_size}
    while url:
        body = api.get(url, params).json()
        pages.append([r["id"] for r in body["results"]])
        url, params, last = body["next"], None, body
    back, url = [], last["previous"]
    while url:
        body = api.get(url).json()
        back.append([r["id"] for r in body["results"]])
        url = body["previous"]
    return [pk for page in pages for pk in page], back


@pytest.mark.parametrize("text", ["gradient", "gradient tensor", "gradient OR tensor", "-tensor"])
@pytest.mark.parametrize("page_size", [1, 3, 7, 50])
def test_pages_by_relevance_are_the_order_of_one_ranking_query(api, text, page_size):
    _corpus("gradient")
    ids, back = _walk(api, text, page_size)
    assert ids == _one_query_order(text)
    # Walking back from the last page meets the same pages, tier boundary included.
    pages = [ids[i : i + page_size] for i in range(0, len(ids), page_size)]
    assert back == list(reversed(pages[:-1]))


def test_a_title_match_outranks_any_other_for_one_word():
    _corpus("gradient")
    ranked = selectors.search_resources(Resource.objects.all(), "gradient")
    in_title = ranked.filter(title__icontains="gradient")
    best_elsewhere = max(
        ranked.exclude(title__icontains="gradient").values_list("search_rank", flat=True)
    )
    worst_in_title = min(in_title.values_list("search_rank", flat=True))
    assert worst_in_title > best_elsewhere


def test_a_first_page_the_title_tier_fills_is_one_statement_on_the_title_vector(api):
    from django.test.utils import CaptureQueriesContext

    from curation.catalog.search import TITLE_COLUMN

    _corpus("gradient")
    with CaptureQueriesContext(connection) as captured:
        body = api.get(LIST, {"q": "gradient", "page_size": 5}).json()
    assert len(body["results"]) == 5
    assert len(captured.captured_queries) == 1
    assert TITLE_COLUMN in captured.captured_queries[0]["sql"]


def test_the_title_tier_is_found_by_its_own_index(db):
    from curation.catalog.search import TITLE_INDEX_NAME

    for n in range(30):
        ResourceFactory(title=f"Filler {n}")
    ResourceFactory(title="Stochastic gradient descent")
    first, _rest = selectors.relevance_tiers(
        selectors.search_resources(Resource.objects.all(), "gradient"), "gradient"
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = first.explain()
    assert TITLE_INDEX_NAME in plan
