"""The public site's pages: server-rendered, read-only, each with its schema.org JSON-LD."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from api import jsonld
from curation.catalog.selectors import topic_graph
from curation.models import ProblemKind
from curation.public import pages

SITE_NAME = "Syllabus"
MAX_ID = 2**63 - 1
MAX_QUERY_LENGTH = 200
FEED_FORMATS = (
    ("application/atom+xml", "Atom", "atom"),
    ("application/rss+xml", "RSS", "rss"),
    ("application/feed+json", "JSON Feed", "json"),
)


def alternates(request: HttpRequest, title: str, url_name: str, *args: Any) -> list[dict]:
    """The `<link rel="alternate">` entries of a page's feeds, one per format."""
    return [
        {
            "type": media_type,
            "title": f"{title} ({label})",
            "href": request.build_absolute_uri(reverse(url_name, args=[*args, suffix])),
        }
        for media_type, label, suffix in FEED_FORMATS
    ]


def resource_url(request: HttpRequest):
    def url_for(row: dict[str, Any]) -> str:
        return request.build_absolute_uri(reverse("public:resource", args=[row["id"]]))

    return url_for


def page(request: HttpRequest, template: str, context: dict, document: dict) -> HttpResponse:
    """Render a page with its JSON-LD, escaped so that no catalogue text can end the script."""
    context = {
        "site_name": SITE_NAME,
        "jsonld": mark_safe(jsonld.script_text(document)),  # noqa: S308 (escaped above)
        "health_labels": pages.HEALTH_LABELS,
        "problem_kinds": ProblemKind.choices,
        **context,
    }
    context.setdefault("alternates", alternates(request, "Everything new", "public:catalogue-feed"))
    return render(request, template, context)


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    data = pages.home()
    document = {
        "@context": jsonld.SCHEMA_CONTEXT,
        "@type": "WebSite",
        "name": SITE_NAME,
        "description": "Curated learning resources whose links are checked.",
        "url": request.build_absolute_uri(reverse("public:home")),
    }
    return page(request, "public/home.html", data, document)


@require_safe
def topic(request: HttpRequest, slug: str) -> HttpResponse:
    data = pages.topic(slug)
    if data is None:
        raise Http404("No such topic.")
    names = jsonld.TopicNames(topic_graph())
    lists = [
        jsonld.item_list(
            f"{data['topic']['name']}: {path.name}",
            [r["resource"] for r in path.recommendations],
            names,
            page_url_for=resource_url(request),
        )
        for path in data["paths"]
    ]
    for node in lists:
        node.pop("@context")
    document = {"@context": jsonld.SCHEMA_CONTEXT, "@graph": lists}
    data["alternates"] = alternates(
        request, f"New in {data['topic']['name']}", "public:topic-feed", slug
    )
    return page(request, "public/topic.html", data, document)


@require_safe
def collection(request: HttpRequest, slug: str) -> HttpResponse:
    data = pages.collection(slug)
    if data is None:
        raise Http404("No such collection.")
    document = jsonld.collection_document(
        data,
        jsonld.TopicNames(topic_graph()),
        url=request.build_absolute_uri(),
        page_url_for=resource_url(request),
    )
    data = {"collection": data, "sections": data["sections"]}
    data["alternates"] = alternates(
        request, data["collection"]["title"], "public:collection-feed", slug
    )
    return page(request, "public/collection.html", data, document)


@require_safe
def resource(request: HttpRequest, pk: int) -> HttpResponse:
    data = pages.resource(pk) if pk <= MAX_ID else None
    if data is None:
        raise Http404("No such resource.")
    node = jsonld.resource_node(
        data, jsonld.TopicNames(topic_graph()), page_url=request.build_absolute_uri()
    )
    document = {"@context": jsonld.SCHEMA_CONTEXT, **node}
    return page(request, "public/resource.html", {"resource": data}, document)


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "")[:MAX_QUERY_LENGTH].strip()
    results = pages.search(text)
    document = jsonld.item_list(
        f"Search results for “{text}”" if text else "Search",
        results,
        jsonld.TopicNames(topic_graph()),
        page_url_for=resource_url(request),
    )
    context = {"query": text, "results": results}
    return page(request, "public/search.html", context, document)
