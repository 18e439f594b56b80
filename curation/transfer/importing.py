"""The one import service: validate a parsed file whole, then write it through the catalogue.

All or nothing by default: a file with any error writes nothing unless the curator asks for
the valid rows. Everything runs in one transaction, a batch of rows at a time (checked, then
written while the file has shown no error); a refused import or a dry run is rolled back at
the end, and its report still counts what a real run would do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from curation.catalog import services
from curation.checker.urlnorm import InvalidURL, normalize_url
from curation.models import Collection, PublicationStatus, Resource, Topic
from curation.transfer.history import history_records, restore_history
from curation.transfer.planning import (
    Plan,
    Progress,
    ResourcePlan,
    plan_collections,
    plan_resource_batch,
    plan_topics,
    start_resources,
)
from curation.transfer.records import WARNING, HistoryRecord, ParsedFile, Problem, ResourceRecord
from curation.transfer.report import ImportReport
from curation.transfer.seen import seen_addresses

ON_DUPLICATE = ("skip", "update", "fail")
# Rows checked and written together: enough to make bulk inserts pay, few enough to hold.
BATCH_SIZE = 1000


def import_catalogue(
    parsed: ParsedFile,
    *,
    on_duplicate: str = "skip",
    dry_run: bool = False,
    import_valid_rows: bool = False,
    user=None,
    progress: Progress | None = None,
    with_history: bool = False,
) -> ImportReport:
    """Import what `parsed` holds; returns the report, never half a file.

    on_duplicate: "skip" keeps the catalogue's resource (and links list items to it),
    "update" overwrites its fields with the file's, "fail" makes it an error naming the
    existing resource's id. Problems carry the file's line (and CSV column). With errors
    and without import_valid_rows nothing is written; a dry run writes nothing either way.
    `progress(phase, done, total)` is told how far the import is. with_history restores a
    JSON backup's health history onto the resources the import creates (history.py).
    """
    if on_duplicate not in ON_DUPLICATE:
        raise ValueError(f"on_duplicate must be one of {', '.join(ON_DUPLICATE)}")
    report = ImportReport(format=parsed.format, dry_run=dry_run, on_duplicate=on_duplicate)
    report.problems = list(parsed.problems)
    if parsed.history and not with_history:
        report.problems.append(Problem(None, f"the health history of {len(parsed.history)} "
                                       "resources is in the file but not imported (ask for it "
                                       "with --with-history)", severity=WARNING))  # fmt: skip
    with transaction.atomic():
        # Dropped before the transaction ends: set_rollback below forbids any more queries.
        with seen_addresses() as seen:
            options = {"on_duplicate": on_duplicate, "user": user, "valid_rows": import_valid_rows}
            run = _Run(parsed, report, Plan(seen), **options)
            try:
                run.topics()
                if with_history:
                    run.start_history()
                run.resources(progress)
                run.collections()
                if with_history:
                    run.history()
            except (ValidationError, services.DuplicateResource) as exc:
                report.problems.append(Problem(None, _message(exc)))
                run.broken = True
        report.applied = run.writing() and not dry_run
        if not report.applied:
            # Whatever was written is undone; the counts stay: they are what it would do.
            transaction.set_rollback(True)
    # In file order, file-wide problems first: the way a curator reads the file.
    report.problems.sort(key=lambda p: (p.line is not None, p.line or 0))
    return report


def _normalized(url: str) -> str | None:
    try:
        return normalize_url(url)
    except InvalidURL:
        return None


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and hasattr(exc, "message_dict"):
        return "; ".join(f"{key}: {' '.join(msgs)}" for key, msgs in exc.message_dict.items())
    return str(exc.messages[0] if isinstance(exc, ValidationError) else exc)


def _batches(records: Iterable[ResourceRecord]) -> Iterator[list[ResourceRecord]]:
    batch: list[ResourceRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) == BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


class _Run:
    """One import: checks and writes a batch of resources at a time, in one transaction.

    Rows are written as soon as they are checked while the file has no error (or the
    curator asked for the valid rows); after the first error nothing more is written and
    the transaction is rolled back at the end. Only a batch and the resources that list
    items point at are held (the addresses seen are in the plan's temporary table), so
    memory does not grow with the rows.
    """

    def __init__(self, parsed: ParsedFile, report: ImportReport, plan: Plan, **options: Any):
        self.parsed = parsed
        self.report = report
        self.options = options
        self.plan = plan
        self.broken = False
        self.topic_rows: dict[str, Topic] = {}
        self.known_topics: set[str] = set()
        self.created = 0
        self.new_ids: list[int] = []
        # History entries by normalized URL, and which of them this import creates or finds.
        self.history_wanted: dict[str, HistoryRecord] = {}
        self.history_created: set[str] = set()
        self.history_existing: dict[str, int] = {}

    def writing(self) -> bool:
        refused = bool(self.report.errors) and not self.options["valid_rows"]
        return not (self.broken or refused)

    def topics(self) -> None:
        self.known_topics = plan_topics(
            self.parsed, self.plan, self.options["on_duplicate"], self.report
        )
        self.topic_rows = _apply_topics(self.plan, self.report)

    def resources(self, progress: Progress | None) -> None:
        start_resources(self.parsed, self.plan)
        total = len(self.parsed.resources)
        done = 0
        for batch in _batches(self.parsed.resources):
            planned = plan_resource_batch(
                batch,
                self.plan,
                on_duplicate=self.options["on_duplicate"],
                user=self.options["user"],
                known_topics=self.known_topics,
                report=self.report,
            )
            self._write(planned)
            done += len(batch)
            if progress is not None:
                progress("importing", done, total)
        if self.writing() and self.created <= services.NEW_WORK_AT_ONCE:
            services.queue_first_work(self.new_ids)

    def _write(self, planned: list[ResourcePlan]) -> None:
        entries: list[tuple[Resource, list[Topic]]] = []
        dates: dict[int, datetime] = {}
        for item in planned:
            if item.normalized in self.history_wanted:
                if item.action == "create":
                    self.history_created.add(item.normalized)
                else:
                    self.history_existing[item.normalized] = item.resource.pk
            if item.action == "create":
                if item.added_at is not None:
                    dates[len(entries)] = item.added_at
                entries.append((item.resource, [self.topic_rows[s] for s in item.topics]))
            elif item.action == "update":
                if self.writing():
                    _update(item, self.topic_rows)
                self.report.count(self.report.updated, "resource")
        self.report.count(self.report.created, "resource", len(entries))
        self.created += len(entries)
        if entries and self.writing():
            services.create_resources_in_bulk(entries, created_at=dates, queue_work=False)
            if self.created <= services.NEW_WORK_AT_ONCE:
                self.new_ids += [resource.pk for resource, _ in entries]

    def start_history(self) -> None:
        for record in history_records(self.parsed.history, self.report.problems):
            key = _normalized(record.url)
            if key is None or key in self.history_wanted:
                what = "is not a valid URL" if key is None else "has a history twice"
                self.report.problems.append(Problem(None, f"{record.url[:200]} {what}",
                                                    column=f"{record.where}.url"))  # fmt: skip
                continue
            self.history_wanted[key] = record

    def history(self) -> None:
        """Restore the history of the resources this import created; say why not for others."""
        in_file = self.plan.seen.places(self.history_wanted)
        for key, record in self.history_wanted.items():
            if key in self.history_existing:
                message = (
                    f"{record.url} was in the catalogue already (resource "
                    f"#{self.history_existing[key]}): it keeps its own health history"
                )
                self.report.problems.append(
                    Problem(None, message, column=record.where, severity=WARNING)
                )
            elif key not in self.history_created and key not in in_file:
                self.report.problems.append(
                    Problem(None, f"{record.url} is not among the file's resources",
                            column=f"{record.where}.url")
                )  # fmt: skip
        created = [self.history_wanted[key] for key in self.history_created]
        self.report.count(self.report.created, "check", sum(len(r.checks) for r in created))
        self.report.count(
            self.report.created, "transition", sum(len(r.transitions) for r in created)
        )
        if not self.writing() or not created:
            return
        resources = services.existing_by_normalized_url(self.history_created)
        restore_history([(self.history_wanted[k], resources[k]) for k in self.history_created])

    def collections(self) -> None:
        plan_collections(self.parsed, self.plan, self.options["on_duplicate"], self.report)
        _apply_collections(self.plan, self.report, write=self.writing())


def _apply_topics(plan: Plan, report: ImportReport) -> dict[str, Topic]:
    topics: dict[str, Topic] = dict(plan.existing_topics)
    # Parents first: the plan orders topics so that a parent precedes its children.
    for record in plan.topics_to_save:
        topic = topics.get(record.slug) or Topic(slug=record.slug)
        created = topic.pk is None
        topic.name = record.name
        topic.description = record.description
        topic.parent = topics[record.parent] if record.parent else None
        services.save_topic(topic)
        topics[record.slug] = topic
        report.count(report.created if created else report.updated, "topic")
    for record in plan.topics_to_save:
        if record.prerequisites:
            chosen = [topics[slug] for slug in record.prerequisites]
            services.save_topic(topics[record.slug], prerequisites=chosen)
    return topics


def _update(item: ResourcePlan, topics: dict[str, Topic]) -> None:
    chosen = [topics[slug] for slug in item.topics] if item.topics_given else None
    services.update_resource(item.resource, topics=chosen, **item.fields)


def _apply_collections(plan: Plan, report: ImportReport, *, write: bool) -> None:
    for record, existing in plan.collections:
        collection = existing or Collection(slug=record.slug)
        collection.title = record.title
        collection.intro = record.intro
        if record.status:
            collection.status = record.status
        elif existing is None:
            collection.status = PublicationStatus.DRAFT
        collection.author_name = record.author_name
        if record.published_on:
            collection.published_on = record.published_on
        sections = [
            {
                "title": section.title,
                "intro": section.intro,
                "items": [
                    {
                        "resource": plan.item_resources[key],
                        "note": item.note,
                        "required": item.required,
                    }
                    for key, item in plan.items_of(section)
                ],
            }
            for section in record.sections
        ]
        if write:
            services.save_collection(collection, sections=sections)
        report.count(report.created if existing is None else report.updated, "collection")
        report.count(report.created, "section", len(sections))
        report.count(report.created, "item", sum(len(s["items"]) for s in sections))
        report.collections.append(record.slug)
