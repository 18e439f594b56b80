"""The checks of an import, made before each write: what each record will do, or why not.

Every check the write would make is made here first (the catalogue's own build_resource for
fields, the normalized URL for duplicates inside the file and against the catalogue, topic
and collection references), so that problems come back with their line and column. Topics
and collections are checked whole; resources a batch at a time (plan_resource_batch), with
only the resources that list items point at kept between batches in memory; where each
address was first seen is kept in a temporary table (seen.py), so memory does not grow with
the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.utils.dateparse import parse_date, parse_datetime

from curation.catalog import services
from curation.checker.urlnorm import InvalidURL, normalize_url
from curation.models import Collection, PublicationStatus, Resource, Topic
from curation.transfer.records import (
    INFO,
    CollectionRecord,
    ItemRecord,
    ParsedFile,
    Problem,
    ResourceRecord,
    SectionRecord,
    TopicRecord,
)
from curation.transfer.report import ImportReport
from curation.transfer.seen import SeenAddresses

# progress(phase, done, total): how far an import is, for a command's progress bar.
Progress = Callable[[str, int, int], None]


@dataclass
class ResourcePlan:
    action: str  # "create", "update" or "skip"
    normalized: str
    resource: Resource
    topics: list[str] = field(default_factory=list)
    topics_given: bool = False
    fields: dict[str, Any] = field(default_factory=dict)
    added_at: datetime | None = None


@dataclass
class Plan:
    # Where each address was first seen in the file (a line, or a JSON path): the one thing
    # that grows with the rows, so it lives in the database, in the import's transaction.
    seen: SeenAddresses
    existing_topics: dict[str, Topic] = field(default_factory=dict)
    topics_to_save: list[TopicRecord] = field(default_factory=list)
    collections: list[tuple[CollectionRecord, Collection | None]] = field(default_factory=list)
    # The addresses list items point at, and their resources (the catalogue's, or the file's
    # as planned): only these are kept, so that memory does not grow with the file.
    item_wanted: set[str] = field(default_factory=set)
    item_resources: dict[str, Resource] = field(default_factory=dict)
    # id(ItemRecord) -> normalized URL, for the items whose resource will exist (grows with
    # the lists' items, not with the rows).
    item_keys: dict[int, str] = field(default_factory=dict)
    # Item addresses whose file row was refused with a problem: their items say nothing more
    # (a subset of item_wanted).
    rejected: set[str] = field(default_factory=set)

    def items_of(self, section: SectionRecord) -> Iterator[tuple[str, ItemRecord]]:
        for item in section.items:
            key = self.item_keys.get(id(item))
            if key is not None:
                yield key, item


def parse_added_at(value: str | None) -> datetime | None:
    """A bookmark's date: Unix seconds (Netscape, Pocket) or ISO 8601; None when blank."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if text.isascii() and text.isdigit():
        if len(text) > 11:
            raise ValueError(f"{text!r} is not a date in Unix seconds")
        return datetime.fromtimestamp(int(text), tz=UTC)
    moment = parse_datetime(text)
    if moment is None:
        raise ValueError(f"{text!r} is not a date (Unix seconds or ISO 8601)")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def plan_topics(
    parsed: ParsedFile, plan: Plan, on_duplicate: str, report: ImportReport
) -> set[str]:
    """Check the file's topics; returns every slug a resource may name (file or catalogue)."""
    return _plan_topics(parsed, plan, on_duplicate, report)


def _problem(report: ImportReport, line: int | None, message: str, **kwargs: Any) -> None:
    report.problems.append(Problem(line, message, **kwargs))


# --- Topics ------------------------------------------------------------------------------------


def _plan_topics(
    parsed: ParsedFile, plan: Plan, on_duplicate: str, report: ImportReport
) -> set[str]:
    # Every topic, not just the ones named: the resources are read later, a batch at a time,
    # and a catalogue has hundreds of topics, not millions.
    plan.existing_topics = {t.slug: t for t in Topic.objects.all()}
    in_file: dict[str, TopicRecord] = {}
    for record in parsed.topics:
        if _topic_problem(record, in_file, plan, on_duplicate, report):
            continue
        in_file[record.slug] = record
    known = set(plan.existing_topics) | set(in_file)
    for record in list(in_file.values()):
        missing = [s for s in [record.parent, *record.prerequisites] if s and s not in known]
        if missing:
            _problem(report, record.line, f"topic {record.slug}: unknown topics {missing}")
            del in_file[record.slug]
    plan.topics_to_save = _parents_first(
        [r for r in in_file.values() if _saves(r, plan, on_duplicate)], report
    )
    return set(plan.existing_topics) | set(in_file)


def _topic_problem(
    record: TopicRecord, in_file: dict, plan: Plan, on_duplicate: str, report: ImportReport
) -> bool:
    try:
        validate_slug(record.slug)
    except ValidationError:
        _problem(report, record.line, f"topic slug {record.slug!r} is not a slug")
        return True
    if not record.name.strip():
        _problem(report, record.line, f"topic {record.slug} has no name")
        return True
    if record.slug in in_file:
        if not record.from_tag:
            _problem(report, record.line, f"topic {record.slug} is listed twice")
        return True
    existing = plan.existing_topics.get(record.slug)
    if existing is not None and not record.from_tag:
        if on_duplicate == "fail":
            _problem(report, record.line, f"topic {record.slug} exists (topic #{existing.pk})")
            return True
        if on_duplicate == "skip":
            report.count(report.skipped, "topic")
    return False


def _saves(record: TopicRecord, plan: Plan, on_duplicate: str) -> bool:
    if record.slug not in plan.existing_topics:
        return True
    return on_duplicate == "update" and not record.from_tag


def _parents_first(records: list[TopicRecord], report: ImportReport) -> list[TopicRecord]:
    by_slug = {r.slug: r for r in records}
    ordered: list[TopicRecord] = []
    placed: set[str] = set()
    for record in records:
        chain: list[TopicRecord] = []
        node: TopicRecord | None = record
        while node is not None and node.slug not in placed and node not in chain:
            chain.append(node)
            node = by_slug.get(node.parent) if node.parent else None
        if node is not None and node in chain:
            _problem(report, record.line, f"topic {record.slug}: its parents form a cycle")
            return ordered
        for item in reversed(chain):
            ordered.append(item)
            placed.add(item.slug)
    return ordered


# --- Resources ---------------------------------------------------------------------------------


def start_resources(parsed: ParsedFile, plan: Plan) -> None:
    """Note the addresses list items point at, and which the catalogue already has."""
    urls = [item.url for c in parsed.collections for s in c.sections for item in s.items]
    plan.item_wanted = {key for key in map(_key, urls) if key}
    plan.item_resources = services.existing_by_normalized_url(plan.item_wanted)


def plan_resource_batch(
    records: list[ResourceRecord],
    plan: Plan,
    *,
    on_duplicate: str,
    user,
    known_topics: set[str],
    report: ImportReport,
) -> list[ResourcePlan]:
    """Check a batch of the file's resources, in file order; returns what each valid one does."""
    keys: list[str | None] = []
    for record in records:
        report.problems.extend(record.problems)
        if record.unreadable:
            keys.append(None)
            continue
        try:
            keys.append(normalize_url(record.url))
        except InvalidURL as exc:
            keys.append(None)
            _cell(report, record, "url", f"bad URL {record.url[:200]!r}: {exc}")
    earlier = plan.seen.places(key for key in keys if key)
    existing = services.existing_by_normalized_url(
        key for key in keys if key and key not in earlier
    )
    here: dict[str, str] = {}
    planned: list[ResourcePlan] = []
    for record, key in zip(records, keys, strict=True):
        if key is None:
            continue
        first = earlier.get(key) or here.get(key)
        if first is not None:
            _cell(report, record, "url", f"duplicate inside the file: same address as {first}")
            continue
        here[key] = _where(record)
        one = None
        if not record.invalid:
            one = _plan_one(record, key, existing, on_duplicate, user, known_topics, report)
        if one is not None:
            planned.append(one)
            if key in plan.item_wanted:
                plan.item_resources[key] = one.resource
        elif key in plan.item_wanted:
            plan.rejected.add(key)
    plan.seen.add(here)
    return planned


def _where(record: ResourceRecord) -> str:
    if record.line is not None:
        return f"line {record.line}"
    return str(record.columns.get("url", "another row"))


def _key(url: str) -> str | None:
    try:
        return normalize_url(url)
    except InvalidURL:
        return None


def _cell(report: ImportReport, record: ResourceRecord, name: str, message: str) -> None:
    _problem(report, record.line, message, column=record.columns.get(name))


def _plan_one(
    record: ResourceRecord,
    key: str,
    catalogue: dict[str, Resource],
    on_duplicate: str,
    user,
    known_topics: set[str],
    report: ImportReport,
) -> ResourcePlan | None:
    failed = False
    unknown = [slug for slug in record.topics if slug not in known_topics]
    if unknown:
        _cell(report, record, "topics", f"unknown topics: {', '.join(unknown)}")
        failed = True
    try:
        added_at = parse_added_at(record.added_at)
    except ValueError as exc:
        _cell(report, record, "added_at", str(exc))
        failed, added_at = True, None
    try:
        built = services.build_resource(
            created_by=user, normalized_url=key, **{**record.fields, "url": record.url}
        )
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            _cell(report, record, name, f"{name}: {' '.join(messages)}")
        failed = True
    if failed:
        return None
    existing = catalogue.get(key)
    if existing is None:
        return ResourcePlan("create", key, built, list(record.topics), added_at=added_at)
    named = (
        f"already in the catalogue as “{existing.title or existing.url}” (resource #{existing.pk})"
    )
    if on_duplicate == "fail":
        _cell(report, record, "url", named)
        return None
    if on_duplicate == "skip":
        _cell(report, record, "url", f"{named}: skipped")
        report.problems[-1].severity = INFO
        report.count(report.skipped, "resource")
        return ResourcePlan("skip", key, existing)
    existing = Resource.objects.get(pk=existing.pk)
    fields = {k: v for k, v in record.fields.items() if k != "url"}
    return ResourcePlan(
        "update",
        key,
        existing,
        list(record.topics),
        topics_given="topics" in record.columns,
        fields=fields,
    )


# --- Collections -------------------------------------------------------------------------------


def plan_collections(
    parsed: ParsedFile, plan: Plan, on_duplicate: str, report: ImportReport
) -> None:
    """Check the file's collections, once its resources are planned."""
    slugs = [c.slug for c in parsed.collections]
    existing = {c.slug: c for c in Collection.objects.filter(slug__in=slugs)}
    for record in parsed.collections:
        if _collection_problem(record, existing.get(record.slug), on_duplicate, report):
            continue
        for section in record.sections:
            for item in section.items:
                _plan_item(item, plan, report)
        plan.collections.append((record, existing.get(record.slug)))


def _collection_problem(
    record: CollectionRecord, existing: Collection | None, on_duplicate: str, report
) -> bool:
    try:
        validate_slug(record.slug)
    except ValidationError:
        _problem(report, record.line, f"collection slug {record.slug!r} is not a slug")
        return True
    if not record.title.strip():
        _problem(report, record.line, f"collection {record.slug} has no title")
        return True
    if record.status and record.status not in PublicationStatus.values:
        _problem(report, record.line, f"collection {record.slug}: unknown status {record.status!r}")
        return True
    if record.published_on and not isinstance(record.published_on, date):
        parsed = parse_date(str(record.published_on))
        if parsed is None:
            _problem(
                report,
                record.line,
                f"collection {record.slug}: published_on {record.published_on!r} is not a date",
            )
            return True
        record.published_on = parsed
    for section in record.sections:
        if not section.title.strip():
            _problem(report, section.line, "a section has no title")
            return True
    if existing is not None and on_duplicate == "fail":
        _problem(
            report, record.line, f"collection {record.slug} exists (collection #{existing.pk})"
        )
        return True
    if existing is not None and on_duplicate == "skip":
        _problem(
            report,
            record.line,
            f"collection {record.slug} exists (collection #{existing.pk}): skipped",
            severity=INFO,
        )
        report.count(report.skipped, "collection")
        return True
    return False


def _plan_item(item: ItemRecord, plan: Plan, report) -> bool:
    key = _key(item.url)
    if key is None:
        return False  # the resource's own bad URL is already reported
    existing = plan.item_resources.get(key)
    if existing is None:
        # Its resource row had an error (reported) or the file never listed it.
        if key not in plan.rejected:
            _problem(report, item.line, f"{item.url} is neither in the file nor in the catalogue")
        return False
    if existing.status == PublicationStatus.ARCHIVED:
        _problem(
            report,
            item.line,
            f"{item.url} is archived{f' (resource #{existing.pk})' if existing.pk else ''}"
            " and cannot be added to a list",
        )
        return False
    plan.item_keys[id(item)] = key
    return True
