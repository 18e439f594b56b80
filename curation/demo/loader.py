"""Loads the demo catalogue: the seed post as a curated list, idempotently.

Rows that already exist are left as they are, so running it again changes nothing and
never undoes a curator's edits to the demo data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.db import transaction

from curation.catalog import services
from curation.checker.urlnorm import normalize_url
from curation.models import (
    Collection,
    CollectionItem,
    CollectionSection,
    Difficulty,
    PublicationStatus,
    Resource,
    Topic,
)

DEMO_FILE = Path(__file__).with_name("deep_learning.json")


@dataclass
class LoadSummary:
    created: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, created: bool) -> None:
        bucket = self.created if created else self.existing
        bucket[kind] = bucket.get(kind, 0) + 1

    def __str__(self) -> str:
        kinds = sorted(set(self.created) | set(self.existing))
        return ", ".join(
            f"{kind}: {self.created.get(kind, 0)} created, "
            f"{self.existing.get(kind, 0)} already there"
            for kind in kinds
        )


@transaction.atomic
def load_demo(path: Path = DEMO_FILE) -> LoadSummary:
    """Create the demo topics, resources and collection that do not exist yet."""
    data = json.loads(path.read_text(encoding="utf-8"))
    summary = LoadSummary()
    topics = _load_topics(data["topics"], summary)
    resources = _load_resources(data["resources"], topics, summary)
    _load_collection(data["collection"], resources, summary)
    return summary


def _load_topics(rows: list[dict], summary: LoadSummary) -> dict[str, Topic]:
    topics: dict[str, Topic] = {}
    for row in rows:
        topic, created = Topic.objects.get_or_create(
            slug=row["slug"],
            defaults={
                "name": row["name"],
                "description": row.get("description", ""),
                "parent": topics.get(row.get("parent", "")),
            },
        )
        topics[row["slug"]] = topic
        summary.count("topics", created)
        if created and row.get("prerequisites"):
            services.save_topic(
                topic, prerequisites=[topics[slug] for slug in row["prerequisites"]]
            )
    return topics


def _load_resources(
    rows: list[dict], topics: dict[str, Topic], summary: LoadSummary
) -> dict[str, Resource]:
    resources: dict[str, Resource] = {}
    for row in rows:
        existing = Resource.objects.filter(normalized_url=normalize_url(row["url"])).first()
        if existing is not None:
            resources[row["key"]] = existing
            summary.count("resources", False)
            continue
        resources[row["key"]] = services.create_resource(
            url=row["url"],
            title=row["title"],
            kind=row["kind"],
            difficulty=Difficulty.from_slug(row["difficulty"]),
            author=row.get("author", ""),
            publisher=row.get("publisher", ""),
            language="en",
            curator_note=row["curator_note"],
            featured=row.get("featured", False),
            status=PublicationStatus.PUBLISHED,
            topics=[topics[slug] for slug in row["topics"]],
        )
        summary.count("resources", True)
    return resources


def _load_collection(data: dict, resources: dict[str, Resource], summary: LoadSummary) -> None:
    collection, created = Collection.objects.get_or_create(
        slug=data["slug"],
        defaults={
            "title": data["title"],
            "intro": data["intro"],
            "author_name": data.get("author_name", ""),
            "published_on": date.fromisoformat(data["published_on"]),
            "status": PublicationStatus.PUBLISHED,
        },
    )
    summary.count("collections", created)
    for position, section_data in enumerate(data["sections"], start=1):
        section, created = CollectionSection.objects.get_or_create(
            collection=collection,
            title=section_data["title"],
            defaults={"intro": section_data.get("intro", ""), "position": position},
        )
        summary.count("sections", created)
        for item_position, item in enumerate(section_data["items"], start=1):
            _, created = CollectionItem.objects.get_or_create(
                section=section,
                resource=resources[item["resource"]],
                defaults={
                    "note": item["note"],
                    "required": item.get("required", True),
                    "position": item_position,
                },
            )
            summary.count("items", created)
