"""Thin viewsets: parse the request, call a selector or a service, shape the response."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api import filters, jsonld
from api import serializers as s
from api import writes as w
from api.http import HttpBehaviourMixin, PlainMetadata, reject_empty
from api.pagination import Ordering
from api.permissions import AUTHENTICATION, can_see_unpublished
from api.schema import ApiAutoSchema
from curation import enqueue
from curation.archive.selectors import (
    ARCHIVED_COLUMNS,
    add_archived_copies,
    archived_copy_annotations,
)
from curation.catalog import recommend, selectors, services
from curation.models import Collection, Difficulty, Resource, Topic

# Ids in URLs are ASCII digits: `str.isdigit()` also accepts "³" and `int()` reads "３" and
# "٣" as 3, so a stricter pattern decides. Database ids are 64-bit: a longer number in a URL is
# simply not found, never an overflow.
ID_PATTERN = "[0-9]+"
ID_RE = re.compile(ID_PATTERN)
MAX_ID = 2**63 - 1
COLLECTION_ORDERING = Ordering("title", "title", False, str)
COLLECTION_ROW_FIELDS = (
    "id", "slug", "title", "intro", "status", "author_name", "published_on",
    "section_count", "item_count", "updated_at",
)  # fmt: skip


def latest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None


RESOURCE_LIST_PARAMETERS = filters.schema_parameters()


class ApiViewSet(HttpBehaviourMixin, viewsets.GenericViewSet):
    schema = ApiAutoSchema()
    authentication_classes = AUTHENTICATION
    parser_classes = [JSONParser]
    metadata_class = PlainMetadata


@extend_schema_view(
    list=extend_schema(
        summary="List and search resources",
        description=(
            "Published resources; broken ones only when `health` asks for them. "
            "Cursor-paginated: follow `next`."
        ),
        parameters=RESOURCE_LIST_PARAMETERS,
        responses=s.ResourceSerializer(many=True),
    ),
    retrieve=extend_schema(summary="One resource", responses=s.ResourceDetailSerializer),
    create=extend_schema(
        summary="Add a resource (curators)",
        description=(
            "A new resource is a draft unless `status` says otherwise; its link is checked and"
            " its page's metadata fetched soon after, which fills in a blank title."
        ),
        request=w.ResourceWriteSerializer,
        responses={
            201: s.ResourceDetailSerializer,
            409: OpenApiResponse(s.DuplicateErrorSerializer, "The URL is already catalogued."),
        },
    ),
    update=extend_schema(
        summary="Replace a resource's curated fields (curators)",
        request=w.ResourceWriteSerializer,
        responses={200: s.ResourceDetailSerializer, 409: s.DuplicateErrorSerializer},
    ),
    partial_update=extend_schema(
        summary="Change some curated fields (curators)",
        request=w.ResourceWriteSerializer,
        responses={200: s.ResourceDetailSerializer, 409: s.DuplicateErrorSerializer},
    ),
)
class ResourceViewSet(jsonld.JsonLdDetailMixin, ApiViewSet):
    queryset = Resource.objects.all()
    # Anything else under resources/ is not routed: the API's JSON 404 (api_not_found).
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def list(self, request) -> Response:
        query = filters.ResourceQuery.parse(request.query_params)
        curator = can_see_unpublished(request, Resource)
        readable = selectors.catalogue_resources(include_unpublished=curator)
        ordering = query.ordering()
        columns = selectors.RESOURCE_ROW_FIELDS
        if curator:
            # Drafts and archives are in a curator's list: each row says which it is.
            columns = (*columns, "status")
        if ordering.field == "search_rank":
            columns = (*columns, "search_rank")
        self.pagination_ordering = ordering
        # Each row's archived copy and topics come in the same query (the list's query count
        # is budgeted).
        readable = readable.annotate(
            **archived_copy_annotations(), **selectors.topic_slugs_annotation(readable.db)
        )
        columns = (*columns, *ARCHIVED_COLUMNS, "topic_slugs")
        found = query.apply(readable)
        if ordering.field == "search_rank":
            # The best-ranked rows first, by their own index where a bound allows it.
            tiers = selectors.relevance_tiers(found, query.values["q"])
            rows = self.paginate_queryset([tier.values(*columns) for tier in tiers])
        else:
            rows = self.paginate_queryset(found.values(*columns))
        if not rows:
            query.check_empty_page()
        return self.get_paginated_response(
            [s.resource_row(r, selectors.annotated_topic_slugs(r)) for r in rows]
        )

    def get_resource(self) -> Resource:
        raw = self.kwargs.get("pk", "")
        include = can_see_unpublished(self.request, Resource)
        found = None
        if ID_RE.fullmatch(raw) and int(raw) <= MAX_ID:
            found = selectors.resource_for_reader(int(raw), include_unpublished=include)
        if found is None:
            raise NotFound("No resource with this id.")
        self.check_object_permissions(self.request, found)
        return found

    def retrieve(self, request, pk: str) -> Response:
        resource = self.get_resource()
        self.last_modified = latest(
            resource.updated_at,
            resource.health_changed_at,
            resource.last_checked_at,
            resource.metadata_fetched_at,
        )
        return Response(s.resource_detail(resource))

    def create(self, request) -> Response:
        incoming = w.ResourceWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        fields = dict(incoming.validated_data)
        topics = fields.pop("topics", [])
        resource = services.create_resource(created_by=request.user, topics=topics, **fields)
        created = selectors.resource_for_reader(resource.pk, include_unpublished=True)
        headers = {"Location": request.build_absolute_uri(f"{resource.pk}/")}
        return Response(s.resource_detail(created), status=201, headers=headers)

    def update(self, request, pk: str, partial: bool = False) -> Response:
        resource = self.get_resource()
        incoming = w.ResourceWriteSerializer(data=request.data, partial=partial)
        incoming.is_valid(raise_exception=True)
        fields = dict(incoming.validated_data)
        topics = fields.pop("topics", None)
        services.update_resource(resource, topics=topics, **fields)
        updated = selectors.resource_for_reader(resource.pk, include_unpublished=True)
        return Response(s.resource_detail(updated))

    def partial_update(self, request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    @extend_schema(summary="Archive a resource (curators)", request=None,
                   responses=s.ResourceDetailSerializer)  # fmt: skip
    @action(detail=True, methods=["post"])
    def archive(self, request, pk: str) -> Response:
        resource = services.archive_resource(self.get_resource())
        archived = selectors.resource_for_reader(resource.pk, include_unpublished=True)
        return Response(s.resource_detail(archived))

    @extend_schema(summary="Check the link now (curators)", request=None,
                   responses={202: s.QueuedSerializer})  # fmt: skip
    @action(detail=True, methods=["post"], url_path="check")
    def check_now(self, request, pk: str) -> Response:
        resource = self.get_resource()
        queued = enqueue.enqueue_checks([resource.pk])
        return Response({"queued": queued}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="Fetch the page's metadata again (curators)", request=None,
                   responses={202: s.QueuedSerializer})  # fmt: skip
    @action(detail=True, methods=["post"], url_path="refresh-metadata")
    def refresh_metadata(self, request, pk: str) -> Response:
        resource = self.get_resource()
        queued = enqueue.enqueue_metadata_refresh([resource.pk])
        return Response({"queued": queued}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Which of these addresses the catalogue already has",
        parameters=[
            OpenApiParameter(
                "url", str, many=True, required=True, explode=True,
                description=f"An address; repeat for several (at most {s.MAX_LOOKUP_URLS}).",
            )
        ],
        responses=s.LookupSerializer,
    )  # fmt: skip
    @action(detail=False, methods=["get"], pagination_class=None)
    def lookup(self, request) -> Response:
        query = s.LookupQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        results = selectors.lookup_urls(
            query.validated_data["url"],
            include_unpublished=can_see_unpublished(request, Resource),
        )
        return Response({"results": [_lookup_item(r) for r in results]})


def _lookup_item(result: selectors.LookupResult) -> dict[str, Any]:
    resource = result.resource
    if resource is not None:
        resource = {
            "id": resource["id"],
            "title": resource["title"],
            "url": resource["url"],
            "status": resource["status"],
            "health": resource["health"],
            "link": s.learner_link(resource["url"], resource["health"], resource["suggested_url"]),
        }
    return {
        "url": result.url,
        "normalized_url": result.normalized_url,
        "found": resource is not None,
        "resource": resource,
        "error": result.error,
    }


@extend_schema_view(
    list=extend_schema(
        summary="Every topic, in tree order (depth-first), with prerequisites and counts",
        responses=s.TopicSerializer(many=True),
    ),
    retrieve=extend_schema(summary="One topic", responses=s.TopicDetailSerializer),
    create=extend_schema(
        summary="Add a topic (curators)",
        request=w.TopicWriteSerializer,
        responses={201: s.TopicDetailSerializer},
    ),
    update=extend_schema(
        summary="Replace a topic (curators)",
        request=w.TopicWriteSerializer,
        responses=s.TopicDetailSerializer,
    ),
    partial_update=extend_schema(
        summary="Change some of a topic's fields (curators)",
        description="`prerequisites`, when sent, replaces the whole list.",
        request=w.TopicWriteSerializer,
        responses=s.TopicDetailSerializer,
    ),
)
class TopicViewSet(ApiViewSet):
    queryset = Topic.objects.all()
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"
    pagination_class = None  # topics number in the hundreds: the whole tree in one answer
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def list(self, request) -> Response:
        graph = selectors.topic_graph(with_details=True)
        counts = selectors.topic_resource_counts()
        data = [s.topic_dict(graph, pk, depth, counts) for pk, depth in graph.tree_order()]
        return Response(data)

    def _detail(self, slug: str) -> dict[str, Any]:
        graph = selectors.topic_graph(with_details=True)
        row = graph.by_slug(slug)
        if row is None:
            raise NotFound("No topic with this slug.")
        pk = row["id"]
        ancestors = graph.ancestors(pk)
        subtree = graph.subtree(pk)
        counts = selectors.topic_resource_counts(topic_ids=[pk])
        data = s.topic_dict(graph, pk, len(ancestors), counts)
        data.update(
            ancestors=s.topic_refs(graph, ancestors),
            prerequisite_topics=s.topic_refs(graph, graph._sorted(graph.prerequisites.get(pk, ()))),
            all_prerequisites=s.topic_refs(graph, graph.all_prerequisites(pk)),
            required_by=s.topic_refs(graph, graph._sorted(graph.required_by.get(pk, ()))),
            subtree_resource_count=selectors.subtree_resource_count(subtree),
        )
        self.last_modified = row["updated_at"]
        return data

    def retrieve(self, request, slug: str) -> Response:
        return Response(self._detail(slug))

    def create(self, request) -> Response:
        incoming = w.TopicWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        fields = dict(incoming.validated_data)
        prerequisites = fields.pop("prerequisites", None)
        topic = services.save_topic(Topic(**fields), prerequisites=prerequisites)
        return Response(self._detail(topic.slug), status=201)

    def update(self, request, slug: str, partial: bool = False) -> Response:
        topic = Topic.objects.filter(slug=slug).select_related("parent").first()
        if topic is None:
            raise NotFound("No topic with this slug.")
        incoming = w.TopicWriteSerializer(data=request.data, partial=partial)
        incoming.is_valid(raise_exception=True)
        fields = dict(incoming.validated_data)
        prerequisites = fields.pop("prerequisites", None)
        for name, value in fields.items():
            setattr(topic, name, value)
        topic = services.save_topic(topic, prerequisites=prerequisites)
        return Response(self._detail(topic.slug))

    def partial_update(self, request, slug: str) -> Response:
        return self.update(request, slug, partial=True)


@extend_schema_view(
    list=extend_schema(
        summary="Curated recommendation lists", responses=s.CollectionSerializer(many=True)
    ),
    retrieve=extend_schema(
        summary="A list with its ordered sections and items",
        responses=s.CollectionDetailSerializer,
    ),
    create=extend_schema(
        summary="Add a collection (curators)",
        request=w.CollectionWriteSerializer,
        responses={201: s.CollectionDetailSerializer},
    ),
    update=extend_schema(
        summary="Replace a collection (curators)",
        description="`sections`, when sent, replaces the whole outline in the order given.",
        request=w.CollectionWriteSerializer,
        responses=s.CollectionDetailSerializer,
    ),
    partial_update=extend_schema(
        summary="Change some of a collection's fields (curators)",
        description=(
            "`sections`, when sent, replaces the whole outline in the order given: each"
            " section needs its `title`, each item its `resource`."
        ),
        request=w.CollectionWriteSerializer,
        responses=s.CollectionDetailSerializer,
    ),
)
class CollectionViewSet(jsonld.JsonLdDetailMixin, ApiViewSet):
    queryset = Collection.objects.all()
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    pagination_ordering = COLLECTION_ORDERING

    def _readable(self):
        return selectors.catalogue_collections(
            include_unpublished=can_see_unpublished(self.request, Collection)
        )

    def list(self, request) -> Response:
        rows = self.paginate_queryset(self._readable().values(*COLLECTION_ROW_FIELDS))
        return self.get_paginated_response(rows)

    def _detail(self, slug: str) -> dict[str, Any]:
        found = self._readable().filter(slug=slug).values(*COLLECTION_ROW_FIELDS).first()
        if found is None:
            raise NotFound("No collection with this slug.")
        include = can_see_unpublished(self.request, Collection)
        sections = selectors.collection_outline(
            Collection(pk=found["id"]), include_unpublished=include
        )
        resource_ids = [i["resource"]["id"] for sec in sections for i in sec["items"]]
        topics = selectors.topic_slugs_for(resource_ids)
        # A broken item carries its archived copy beside its health (its `link` stays null).
        add_archived_copies([i["resource"] for sec in sections for i in sec["items"]])
        for section in sections:
            for item in section["items"]:
                row = item["resource"]
                item["resource"] = s.resource_row(row, topics[row["id"]])
        self.last_modified = latest(
            found["updated_at"],
            *(i["resource"]["updated_at"] for sec in sections for i in sec["items"]),
        )
        return {**found, "sections": sections}

    def retrieve(self, request, slug: str) -> Response:
        return Response(self._detail(slug))

    def create(self, request) -> Response:
        incoming = w.CollectionWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        fields = dict(incoming.validated_data)
        sections = fields.pop("sections", None)
        collection = Collection(author=request.user, **fields)
        services.save_collection(collection, sections=sections)
        return Response(self._detail(collection.slug), status=201)

    def update(self, request, slug: str, partial: bool = False) -> Response:
        collection = Collection.objects.filter(slug=slug).first()
        if collection is None:
            raise NotFound("No collection with this slug.")
        incoming = w.CollectionWriteSerializer(collection, data=request.data, partial=partial)
        incoming.is_valid(raise_exception=True)
        fields = dict(incoming.validated_data)
        sections = fields.pop("sections", None)
        for name, value in fields.items():
            setattr(collection, name, value)
        services.save_collection(collection, sections=sections)
        return Response(self._detail(collection.slug))

    def partial_update(self, request, slug: str) -> Response:
        return self.update(request, slug, partial=True)

    @extend_schema(summary="Archive a collection (curators)", request=None,
                   responses=s.CollectionDetailSerializer)  # fmt: skip
    @action(detail=True, methods=["post"])
    def archive(self, request, slug: str) -> Response:
        collection = Collection.objects.filter(slug=slug).first()
        if collection is None:
            raise NotFound("No collection with this slug.")
        services.archive_collection(collection)
        return Response(self._detail(collection.slug))


class RecommendationView(HttpBehaviourMixin, APIView):
    schema = ApiAutoSchema()
    authentication_classes = AUTHENTICATION
    metadata_class = PlainMetadata

    @extend_schema(
        summary="An ordered, explained reading list for a topic and a level",
        parameters=[s.RecommendationQuerySerializer],
        responses=s.RecommendationListSerializer,
    )
    def get(self, request) -> Response:
        reject_empty(request.query_params, ("level", "kind", "max_minutes", "free", "limit"))
        query = s.RecommendationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        level = Difficulty(params["level"])
        found = recommend.recommended_resources(
            topic_slug=params["topic"],
            level=level,
            exclude_ids=params.get("exclude", []),
            kind=params.get("kind"),
            max_minutes=params.get("max_minutes"),
            free=params["free"],
            limit=params["limit"],
        )
        if found is None:
            raise ValidationError({"topic": [w.unknown_topics_message([params["topic"]])]})
        topics = selectors.topic_slugs_for([r.resource["id"] for r in found])
        add_archived_copies([r.resource for r in found])
        results = [
            {"resource": s.resource_row(r.resource, topics[r.resource["id"]]), "reasons": r.reasons}
            for r in found
        ]
        return Response({"topic": params["topic"], "level": level.slug, "results": results})
