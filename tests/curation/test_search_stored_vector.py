"""Full-text search reads a stored, generated tsvector on PostgreSQL (issue 21, item 3)."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from curation.catalog import selectors
from curation.catalog.search import SEARCH_COLUMN, SEARCH_INDEX_NAME
from curation.models import Resource
from tests.factories import ResourceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
LIST = "/api/v1/resources/"


def stored_vector(resource: Resource) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {SEARCH_COLUMN}::text FROM curation_resource WHERE id = %s", [resource.pk]
        )
        return cursor.fetchone()[0]


def test_the_stored_vector_follows_every_edit_of_the_text():
    resource = ResourceFactory(title="Kernels", description="", curator_note="", author="")
    assert "'kernel':1A" in stored_vector(resource)
    Resource.objects.filter(pk=resource.pk).update(
        title="Attention", curator_note="Read twice", description="transformers"
    )
    vector = stored_vector(resource)
    assert "'attent':1A" in vector
    assert "kernel" not in vector
    assert "'twice':3B" in vector
    assert "'transform':4C" in vector


def test_title_ranks_above_curator_note_above_description():
    in_description = ResourceFactory(title="Lecture one", description="embeddings")
    in_note = ResourceFactory(title="Lecture two", curator_note="embeddings")
    in_title = ResourceFactory(title="Embeddings")
    found = APIClient().get(LIST, {"q": "embeddings"}).json()["results"]
    assert [r["id"] for r in found] == [in_title.pk, in_note.pk, in_description.pk]


def test_match_and_rank_read_the_stored_column_without_recomputing_it():
    ResourceFactory(title="Stochastic gradient descent")
    query = selectors.search_resources(Resource.objects.all(), "gradient").order_by("-search_rank")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain(verbose=True)
    assert SEARCH_INDEX_NAME in plan
    assert SEARCH_COLUMN in plan
    assert "to_tsvector" not in plan
