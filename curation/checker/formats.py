"""Streaming report writers: text, JSON, Markdown, GitHub workflow commands and SARIF.

Each writes a finding as soon as it comes (SARIF, one JSON document, at the end). A finding
from the linter names its file, line and column; one from the catalogue has no place.
"""

from __future__ import annotations

import json
from typing import TextIO

from .findings import Finding
from .reportbase import QUIET_OUTCOMES, ReportWriter, detail
from .sarif import SarifWriter

FORMATS = ("text", "json", "markdown", "github", "sarif")


class TextWriter(ReportWriter):
    summary_inline = True

    def _write(self, finding: Finding) -> None:
        status = str(finding.status_code) if finding.status_code is not None else "-"
        line = f"{finding.outcome:<17} {status:>3}  {finding.url}"
        if finding.place is not None:
            line = f"{finding.place}: {line}"
        if finding.final_url and finding.final_url != finding.url:
            line += f" -> {finding.final_url}"
        if detail(finding) and finding.outcome not in ("ok", "redirected"):
            line += f"  [{detail(finding)}]"
        if finding.cached:
            line += "  (cached)"
        self.stream.write(line + "\n")

    def finish(self) -> None:
        self.stream.write(f"\n{self.summary()}\n")


class JsonWriter(ReportWriter):
    """A JSON array written element by element, so memory stays flat."""

    def start(self) -> None:
        self.stream.write("[")
        self._first = True

    def _write(self, finding: Finding) -> None:
        self.stream.write(("\n" if self._first else ",\n") + json.dumps(finding.to_dict()))
        self._first = False

    def finish(self) -> None:
        self.stream.write("\n]\n" if not self._first else "]\n")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


class MarkdownWriter(ReportWriter):
    def __init__(self, stream: TextIO, *, flush_each: bool = True, located: bool = False) -> None:
        super().__init__(stream, flush_each=flush_each)
        self.located = located

    def start(self) -> None:
        where = "| Where " if self.located else ""
        self.stream.write(f"{where}| URL | Outcome | Status | Final URL | Rule |\n")
        self.stream.write("| --- " * (6 if self.located else 5) + "|\n")

    def _write(self, finding: Finding) -> None:
        final = finding.final_url if finding.final_url != finding.url else ""
        cells: tuple[object, ...] = (
            finding.url, finding.outcome, finding.status_code, final, finding.rule
        )  # fmt: skip
        if self.located:
            cells = (finding.place or "", *cells)
        self.stream.write("| " + " | ".join(_cell(c) for c in cells) + " |\n")


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (file=, title=): also `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class GithubWriter(ReportWriter):
    """GitHub Actions workflow commands: an error annotation on the file and line for each
    failing link, a warning for a link we could not vouch for (a bot wall, an odd status)."""

    def _write(self, finding: Finding) -> None:
        if finding.outcome in QUIET_OUTCOMES:
            return
        level = "error" if finding.failing else "warning"
        properties = []
        if finding.place is not None:
            properties = [
                f"file={escape_property(finding.place.file)}",
                f"line={finding.place.line}",
                f"col={finding.place.column}",
            ]
        properties.append(f"title={escape_property(f'checklinks: {finding.outcome}')}")
        status = f" ({finding.status_code})" if finding.status_code is not None else ""
        message = f"{finding.outcome}{status}: {finding.url}"
        if detail(finding):
            message += f" [{detail(finding)}]"
        self.stream.write(f"::{level} {','.join(properties)}::{escape_data(message)}\n")


def make_writer(
    fmt: str, stream: TextIO, *, flush_each: bool = True, located: bool = False
) -> ReportWriter:
    if fmt == "markdown":
        return MarkdownWriter(stream, flush_each=flush_each, located=located)
    writers: dict[str, type[ReportWriter]] = {
        "text": TextWriter,
        "json": JsonWriter,
        "github": GithubWriter,
        "sarif": SarifWriter,
    }
    if fmt not in writers:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return writers[fmt](stream, flush_each=flush_each)
