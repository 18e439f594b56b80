"""The project's URLs plus bare views for the REST API benchmark (benchmarks/api_bench.py).

Each bare view runs the same single query as the endpoint it is compared with and returns
the rows as JsonResponse: the floor any API could reach.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from curation.archive.selectors import ARCHIVED_COLUMNS, archived_copy_annotations
from curation.catalog import recommend, selectors
from curation.models import Difficulty, Resource

PAGE = 50
# Filled by the benchmark before timing: {topic slug: {"topics": [...], "prerequisites": [...]}}
RECOMMENDATION_TOPIC_IDS: dict[str, dict[str, list[int]]] = {}


def with_api_columns(request, resources, columns: tuple[str, ...]):
    """`?same=1`: the row also reads what the API reads beside it (archived copy, topic
    slugs) and the page is PAGE + 1 rows (the API's look-ahead for `next`): the API's very
    statement, which benchmarks/scale_api.py checks, so what is left of the ratio is the
    API's Python, not its SQL. Otherwise the endpoint's main query alone."""
    if request.GET.get("same") != "1":
        return resources.values(*columns)[:PAGE]
    resources = resources.annotate(
        **archived_copy_annotations(), **selectors.topic_slugs_annotation(resources.db)
    )
    return resources.values(*columns, *ARCHIVED_COLUMNS, "topic_slugs")[: PAGE + 1]


def bare_list(request):
    resources = selectors.filter_by_health(Resource.objects.published(), []).order_by("-id")
    rows = with_api_columns(request, resources, selectors.RESOURCE_ROW_FIELDS)
    return JsonResponse({"results": list(rows)})


def bare_filtered(request):
    # The list's main query for the filters benchmarks/scale_api.py times, through the same
    # selectors the list applies, without parsing, pagination or shaping.
    resources = Resource.objects.published()
    if "topic" in request.GET:
        resources = selectors.filter_by_topic(resources, request.GET["topic"])
    if "difficulty" in request.GET:
        wanted = [Difficulty.from_slug(s) for s in request.GET.getlist("difficulty")]
        resources = resources.filter(difficulty__in=wanted)
    resources = selectors.filter_by_health(resources, request.GET.getlist("health"))
    if "language" in request.GET:
        resources = selectors.filter_by_language(resources, request.GET["language"])
    rows = with_api_columns(request, resources.order_by("-id"), selectors.RESOURCE_ROW_FIELDS)
    return JsonResponse({"results": list(rows)})


def bare_search(request):
    text = request.GET["q"]
    found = selectors.search_resources(Resource.objects.published(), text)
    found = selectors.filter_by_health(found, [])
    columns = (*selectors.RESOURCE_ROW_FIELDS, "search_rank")
    if request.GET.get("same") != "1":
        rows = with_api_columns(request, found.order_by("-search_rank", "-id"), columns)
        return JsonResponse({"results": list(rows)})
    # The API's statements: its relevance tiers read in turn until the page is full.
    rows = []
    for tier in selectors.relevance_tiers(found, text):
        page = with_api_columns(request, tier.order_by("-search_rank", "-id"), columns)
        rows += list(page[: PAGE + 1 - len(rows)])
        if len(rows) > PAGE:
            break
    return JsonResponse({"results": rows})


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
    path("bench/bare/filtered/", bare_filtered),
    path("bench/bare/search/", bare_search),
    path("bench/bare/recommendations/", bare_recommendations),
    *project_urlpatterns,
]
