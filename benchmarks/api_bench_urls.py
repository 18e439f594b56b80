"""The project's URLs plus bare views for the REST API benchmark (benchmarks/api_bench.py).

Each bare view runs the same single query as the endpoint it is compared with and returns
the rows as JsonResponse: the floor any API could reach.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from curation.catalog import recommend, selectors
from curation.models import Difficulty, Resource

PAGE = 50
# Filled by the benchmark before timing: {topic slug: {"topics": [...], "prerequisites": [...]}}
RECOMMENDATION_TOPIC_IDS: dict[str, dict[str, list[int]]] = {}


def bare_list(request):
    rows = (
        selectors.filter_by_health(Resource.objects.published(), [])
        .order_by("-id")
        .values(*selectors.RESOURCE_ROW_FIELDS)[:PAGE]
    )
    return JsonResponse({"results": list(rows)})


def bare_search(request):
    found = selectors.search_resources(Resource.objects.published(), request.GET["q"])
    rows = (
        selectors.filter_by_health(found, [])
        .order_by("-search_rank", "-id")
        .values(*selectors.RESOURCE_ROW_FIELDS, "search_rank")[:PAGE]
    )
    return JsonResponse({"results": list(rows)})


def bare_recommendations(request):
    # The recommender's one candidate query for a beginner, with the topic subtree and the
    # prerequisites resolved beforehand (outside the timing), returned as they come.
    ids = RECOMMENDATION_TOPIC_IDS[request.GET["topic"]]
    rows = recommend.recommendation_pool(
        topic_ids=ids["topics"], prerequisite_ids=ids["prerequisites"], level=Difficulty.BEGINNER
    )
    return JsonResponse({"results": list(rows)})


urlpatterns = [
    path("bench/bare/list/", bare_list),
    path("bench/bare/search/", bare_search),
    path("bench/bare/recommendations/", bare_recommendations),
    *project_urlpatterns,
]
