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
