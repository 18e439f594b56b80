"""The full-text search document, shared by the PostgreSQL index and the search selector.

The expression must be the same, character for character, in the index and in queries, or
PostgreSQL will not use the index: hence one constant.
"""

from __future__ import annotations

SEARCH_CONFIG = "english"
SEARCH_INDEX_NAME = "resource_search_gin"
SEARCH_VECTOR_SQL = (
    "(setweight(to_tsvector('english'::regconfig, coalesce(\"curation_resource\".\"title\", '')), 'A')"
    " || setweight(to_tsvector('english'::regconfig, coalesce(\"curation_resource\".\"author\", '')), 'B')"
    " || setweight(to_tsvector('english'::regconfig, coalesce(\"curation_resource\".\"curator_note\", '')), 'B')"
    " || setweight(to_tsvector('english'::regconfig, coalesce(\"curation_resource\".\"description\", '')), 'C'))"
)
