"""What every report writer shares: the counts, the summary line, a finding's detail."""

from __future__ import annotations

from collections import Counter
from typing import TextIO

from .findings import Finding, LintOutcome
from .outcomes import Outcome

# The order outcomes are counted in the summary line.
SUMMARY_ORDER = [str(o) for o in Outcome] + [str(o) for o in LintOutcome]
QUIET_OUTCOMES = frozenset({"ok", "redirected", "skipped", "excluded"})


class ReportWriter:
    """`flush_each`: flush after every result. Off when the producer flushes the stream itself
    whenever it is about to wait (see cli.check_file's on_idle), which is as prompt and costs
    one write for several results."""

    # Whether the summary line goes into the report itself (else to stderr, so that a
    # machine-read report stays clean).
    summary_inline = False

    def __init__(self, stream: TextIO, *, flush_each: bool = True) -> None:
        self.stream = stream
        self.flush_each = flush_each
        self.counts: Counter[str] = Counter()
        self.links: set[str] = set()
        self.places = 0

    def start(self) -> None:
        pass

    def write(self, finding: Finding) -> None:
        self.counts[finding.outcome] += 1
        self.links.add(finding.url)
        self.places += finding.place is not None
        self._write(finding)
        if self.flush_each:
            self.stream.flush()

    def _write(self, finding: Finding) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        pass

    def summary(self) -> str:
        """One line: how many links, at how many places, and the count of each outcome."""
        counts = ", ".join(
            f"{outcome}: {self.counts[outcome]}"
            for outcome in SUMMARY_ORDER
            if self.counts[outcome]
        )
        where = f" at {self.places} places" if self.places else ""
        total = sum(self.counts.values())
        links = len(self.links) if self.places else total
        return f"summary: {links} links{where}: {counts or 'nothing to check'}"


def detail(finding: Finding) -> str:
    return finding.rule + (f": {finding.error}" if finding.error else "")
