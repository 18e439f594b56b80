"""What an import did, or would do: counts by kind and every problem by line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from curation.transfer.records import ERROR, Problem


@dataclass
class ImportReport:
    """What an import did (or, on a dry run or refusal, would have done)."""

    format: str
    dry_run: bool
    on_duplicate: str
    applied: bool = False
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.severity == ERROR]

    def count(self, bucket: dict[str, int], kind: str, number: int = 1) -> None:
        bucket[kind] = bucket.get(kind, 0) + number

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "dry_run": self.dry_run,
            "on_duplicate": self.on_duplicate,
            "applied": self.applied,
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "collections": self.collections,
            "errors": len(self.errors),
            "problems": [problem.as_dict() for problem in self.problems],
        }

    def summary(self) -> str:
        def counts(bucket: dict[str, int]) -> str:
            return ", ".join(f"{n} {kind}" for kind, n in sorted(bucket.items())) or "nothing"

        verb = "would create" if not self.applied else "created"
        return (
            f"{verb} {counts(self.created)}; updated {counts(self.updated)}; "
            f"skipped {counts(self.skipped)}; {len(self.errors)} errors, "
            f"{len(self.problems) - len(self.errors)} other notes"
        )
