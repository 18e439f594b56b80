"""Streaming report writers: text, JSON and Markdown. Each writes a result as soon as it comes."""

from __future__ import annotations

import json
from collections import Counter
from typing import TextIO

from .outcomes import CheckResult, Outcome

FORMATS = ("text", "json", "markdown")


class ReportWriter:
    """`flush_each`: flush after every result. Off when the producer flushes the stream itself
    whenever it is about to wait (see cli.check_file's on_idle), which is as prompt and costs
    one write for several results."""

    def __init__(self, stream: TextIO, *, flush_each: bool = True) -> None:
        self.stream = stream
        self.flush_each = flush_each
        self.counts: Counter[Outcome] = Counter()

    def start(self) -> None:
        pass

    def write(self, result: CheckResult) -> None:
        self.counts[result.outcome] += 1
        self._write(result)
        if self.flush_each:
            self.stream.flush()

    def _write(self, result: CheckResult) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        pass


class TextWriter(ReportWriter):
    def _write(self, result: CheckResult) -> None:
        status = str(result.status_code) if result.status_code is not None else "-"
        line = f"{result.outcome:<17} {status:>3}  {result.url}"
        if result.final_url and result.final_url != result.url:
            line += f" -> {result.final_url}"
        detail = result.rule + (f": {result.error}" if result.error else "")
        if detail and result.outcome not in (Outcome.OK, Outcome.REDIRECTED):
            line += f"  [{detail}]"
        self.stream.write(line + "\n")

    def finish(self) -> None:
        total = sum(self.counts.values())
        self.stream.write(f"\n{total} checked\n")
        for outcome in Outcome:
            if self.counts[outcome]:
                self.stream.write(f"{outcome}: {self.counts[outcome]}\n")


class JsonWriter(ReportWriter):
    """A JSON array written element by element, so memory stays flat."""

    def start(self) -> None:
        self.stream.write("[")
        self._first = True

    def _write(self, result: CheckResult) -> None:
        self.stream.write(("\n" if self._first else ",\n") + json.dumps(result.to_dict()))
        self._first = False

    def finish(self) -> None:
        self.stream.write("\n]\n" if not self._first else "]\n")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


class MarkdownWriter(ReportWriter):
    def start(self) -> None:
        self.stream.write("| URL | Outcome | Status | Final URL | Rule |\n")
        self.stream.write("| --- | --- | --- | --- | --- |\n")

    def _write(self, result: CheckResult) -> None:
        final = result.final_url if result.final_url != result.url else ""
        cells = (result.url, result.outcome, result.status_code, final, result.rule)
        self.stream.write("| " + " | ".join(_cell(c) for c in cells) + " |\n")


def make_writer(fmt: str, stream: TextIO, *, flush_each: bool = True) -> ReportWriter:
    writers: dict[str, type[ReportWriter]] = {
        "text": TextWriter,
        "json": JsonWriter,
        "markdown": MarkdownWriter,
    }
    if fmt not in writers:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return writers[fmt](stream, flush_each=flush_each)
