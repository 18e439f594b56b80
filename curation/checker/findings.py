"""What the linter reports: a check's result at one place in one file.

The linter adds outcomes of its own for what it decides without the network (a relative link's
file, a fragment's heading, a link it leaves alone); they are spelled here, next to the engine's
outcomes they extend, and only the linter uses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .outcomes import CheckResult, Hop, Outcome


class LintOutcome(StrEnum):
    MISSING_FILE = "missing_file"
    MISSING_ANCHOR = "missing_anchor"
    # Not checkable here (mailto:, tel:, a relative link with no file to resolve it from).
    SKIPPED = "skipped"
    # Left alone on purpose: --exclude, .checklinksignore, --exclude-private and friends.
    EXCLUDED = "excluded"


LINT_FAILING = frozenset({LintOutcome.MISSING_FILE, LintOutcome.MISSING_ANCHOR})
# Statuses the engine reads as a verdict on the link (not on our input or policy): what
# --accept may overrule.
ACCEPTABLE = frozenset({"not_found", "server_error", "blocked", "http_error"})


@dataclass(frozen=True, slots=True)
class Place:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(slots=True)
class Finding:
    url: str
    outcome: str
    status_code: int | None = None
    final_url: str | None = None
    redirects: list[Hop] = field(default_factory=list)
    elapsed_ms: int = 0
    error: str = ""
    rule: str = ""
    place: Place | None = None
    cached: bool = False
    failing: bool = False
    # The engine's own record, when the engine checked the link: its JSON carries every field
    # the engine reports (whatever it adds later), with the linter's verdict over it.
    result: CheckResult | None = None

    @classmethod
    def from_result(
        cls, result: CheckResult, place: Place | None = None, *, cached: bool = False
    ) -> Finding:
        return cls(
            url=result.url,
            outcome=str(result.outcome),
            status_code=result.status_code,
            final_url=result.final_url,
            redirects=list(result.redirects),
            elapsed_ms=result.elapsed_ms,
            error=result.error,
            rule=result.rule,
            place=place,
            cached=cached,
            failing=result.failing,
            result=result,
        )

    @classmethod
    def local(cls, url: str, outcome: str, rule: str, place: Place | None) -> Finding:
        """A verdict reached without the network."""
        return cls(
            url=url, outcome=str(outcome), rule=rule, place=place, failing=outcome in LINT_FAILING
        )

    def accepted(self, codes: frozenset[int]) -> Finding:
        """This finding with --accept applied: an accepted status makes the link ok."""
        if self.status_code in codes and self.outcome in ACCEPTABLE:
            self.outcome, self.failing = "ok", False
            self.rule = f"accepted-status-{self.status_code}"
        return self

    def to_dict(self) -> dict[str, Any]:
        # A verdict reached without the network has the same keys, the engine's defaults.
        record = self.result or CheckResult(url=self.url, outcome=Outcome.OK)
        data = record.to_dict()
        data |= {
            "url": self.url,
            "outcome": self.outcome,
            "status_code": self.status_code,
            "final_url": self.final_url,
            "redirects": [{"url": hop.url, "status": hop.status} for hop in self.redirects],
            "elapsed_ms": self.elapsed_ms,
            "error": self.error,
            "rule": self.rule,
        }
        if self.place is not None:
            data.update(
                file=self.place.file,
                line=self.place.line,
                column=self.place.column,
                cached=self.cached,
            )
        return data
