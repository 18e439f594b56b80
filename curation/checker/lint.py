"""The linter behind `checklinks --input`: files, globs, directories and standard input in;
each link checked once (over the network, against the file system, or not at all) and
reported at every place it stands.
"""

from __future__ import annotations

import glob
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

from .anchors import anchors_of, has_anchor, markdown_anchors
from .config import CheckerConfig
from .findings import Finding, LintOutcome, Place
from .inputs import InputLink, kind_of, links_in_lines, read_links
from .linkcache import LinkCache
from .outcomes import Outcome
from .selection import Selection
from .shards import check_in_processes

STDIN = "-"
STDIN_NAME = "<stdin>"
# What a directory given as an input is searched for.
LINT_SUFFIXES = frozenset({".md", ".markdown", ".html", ".htm", ".txt"})
SKIPPED_DIRECTORIES = frozenset({"node_modules", "__pycache__"})
_GLOB_CHARACTERS = frozenset("*?[")
# Below this, the politeness estimate is not worth a line on stderr.
ESTIMATE_THRESHOLD = 5.0


class InputError(Exception):
    """An input that names nothing readable: a usage error."""


@dataclass(frozen=True)
class Source:
    name: str
    path: Path | None  # None: standard input
    kind: str
    # Standard input's anchors, worked out as it is read (it cannot be read twice).
    anchors: frozenset[str] | None = None


@dataclass(slots=True)
class Located:
    link: InputLink
    source: Source

    @property
    def place(self) -> Place:
        return Place(self.source.name, self.link.line, self.link.column)


def expand_inputs(inputs: Iterable[str]) -> list[Source]:
    """Files, directories (searched for Markdown, HTML and text), globs (`**` included) and
    `-` for standard input, each file once, in the order given."""
    sources: list[Source] = []
    seen: set[str] = set()
    for given in inputs:
        for source in _expand_one(given):
            key = STDIN if source.path is None else os.path.realpath(source.path)
            if key not in seen:
                seen.add(key)
                sources.append(source)
    return sources


def _expand_one(given: str) -> list[Source]:
    if given == STDIN:
        # Standard input is read as Markdown, which also finds one bare URL a line.
        return [Source(STDIN_NAME, None, "markdown")]
    if os.path.isdir(given):
        return [_file_source(path, found=True) for path in _walk(given)]
    if _GLOB_CHARACTERS & set(given):
        matches = sorted(p for p in glob.glob(given, recursive=True) if os.path.isfile(p))
        if not matches:
            raise InputError(f"no file matches {given}")
        return [_file_source(path, found=True) for path in matches]
    try:
        # Open once up front so that a missing or unreadable file is a usage error (exit 2)
        # before any output, not an exception in the middle of the report.
        with open(given, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise InputError(f"cannot read {given}: {exc}") from exc
    return [_file_source(given)]


def _walk(folder: str) -> list[str]:
    found = []
    for root, directories, files in os.walk(folder):
        directories[:] = sorted(
            d for d in directories if not d.startswith(".") and d not in SKIPPED_DIRECTORIES
        )
        found.extend(
            os.path.join(root, name)
            for name in sorted(files)
            if Path(name).suffix.lower() in LINT_SUFFIXES
        )
    return found


def _file_source(path: str, *, found: bool = False) -> Source:
    """A text file named on the command line is a list of URLs, one a line (junk reported); one
    found in a folder or by a glob is prose, searched for URLs."""
    kind = kind_of(path)
    return Source(os.path.normpath(path), Path(path), "plain" if found and kind == "text" else kind)


def read_places(sources: list[Source], stdin: Iterable[str] | None = None) -> list[Located]:
    """Every link of every source, in order (standard input read once, here)."""
    located: list[Located] = []
    for source in sources:
        if source.path is None:
            lines = list(stdin if stdin is not None else sys.stdin)
            links = links_in_lines(lines, source.kind, every_link=True)
            source = replace(source, anchors=frozenset(markdown_anchors(lines)))
        else:
            links = read_links(source.path, every_link=True, kind=source.kind)
        located.extend(Located(link, source) for link in links)
    return located


@dataclass
class LocalChecker:
    """Verdicts on relative links and fragments, reading each target file's anchors once."""

    anchors: dict[str, set[str] | None] = field(default_factory=dict)

    def check(self, located: Located) -> tuple[str, str]:
        """(outcome, rule) for a link with no scheme."""
        url, source = located.link.url, located.source
        parts = urlsplit(url)
        if url.startswith("//"):
            return LintOutcome.SKIPPED, "protocol-relative link: no scheme to check it with"
        if not parts.path:
            return self._fragment(source, source.path, parts.fragment)
        if source.path is None:
            return LintOutcome.SKIPPED, "relative link with no base (standard input)"
        if parts.path.startswith("/"):
            return LintOutcome.SKIPPED, "root-relative link: no site root to resolve it against"
        target = source.path.parent / unquote(parts.path)
        if not target.exists():
            return LintOutcome.MISSING_FILE, f"no such file: {os.path.normpath(target)}"
        if not parts.fragment or target.is_dir():
            return Outcome.OK, "file-exists"
        return self._fragment(source, target, parts.fragment)

    def _fragment(self, source: Source, path: Path | None, fragment: str) -> tuple[str, str]:
        fragment = unquote(fragment)
        anchors: set[str] | frozenset[str] | None
        if path is None:
            anchors = source.anchors
        else:
            key = os.path.realpath(path)
            if key not in self.anchors:
                try:
                    self.anchors[key] = anchors_of(path)
                except OSError:
                    self.anchors[key] = None
            anchors = self.anchors[key]
        if anchors is None:
            # A fragment into a file without headings we can read (a text file, a PDF, a
            # source file's #L10 line anchor): the file is there, the fragment not checked.
            return Outcome.OK, "file-exists"
        if has_anchor(anchors, fragment):
            return Outcome.OK, "anchor-found"
        return LintOutcome.MISSING_ANCHOR, f"no heading or id for #{fragment}"


@dataclass
class Plan:
    """The run worked out before any request: verdicts known now, URLs to check."""

    ready: list[tuple[int, Finding]] = field(default_factory=list)
    remote: dict[str, list[int]] = field(default_factory=dict)


def plan(located: list[Located], selection: Selection, cache: LinkCache | None = None) -> Plan:
    local = LocalChecker()
    result = Plan()
    for index, item in enumerate(located):
        url, place = item.link.url, item.place
        excluded = selection.why_excluded(url)
        if excluded:
            result.ready.append((index, Finding.local(url, LintOutcome.EXCLUDED, excluded, place)))
            continue
        scheme = _scheme(url)
        if item.source.kind == "text" or scheme in ("http", "https"):
            # A list of URLs (a .txt file named on the command line) is checked line by line as
            # written: a line that is not a URL comes back from the engine as invalid_url.
            # One check per page: its fragments are for the reader's browser, not the server.
            page = urldefrag(url).url
            cached = cache.get(page) if cache else None
            if cached is not None:
                finding = Finding.from_result(cached, place, cached=True)
                finding.url = url
                result.ready.append((index, finding.accepted(selection.accept)))
            else:
                result.remote.setdefault(page, []).append(index)
        elif scheme:
            rule = f"{scheme}: links are not checked"
            result.ready.append((index, Finding.local(url, LintOutcome.SKIPPED, rule, place)))
        else:
            outcome, rule = local.check(item)
            result.ready.append((index, Finding.local(url, outcome, rule, place)))
    return result


def _scheme(url: str) -> str:
    head, colon, _ = url.partition(":")
    if not colon or not head or not head[0].isalpha():
        return ""
    if not all(c.isalnum() or c in "+-." for c in head) or "/" in head:
        return ""
    return head.lower()


def run(
    located: list[Located],
    work: Plan,
    config: CheckerConfig,
    *,
    selection: Selection,
    cache: LinkCache | None = None,
    processes: int = 1,
    on_idle: Callable[[], None] | None = None,
) -> Iterator[tuple[int, Finding]]:
    """(position in the input, finding) as verdicts come: the known ones first, then each
    checked URL at every place it stands."""
    yield from work.ready
    items = ((url, url) for url in work.remote)
    for url, result in check_in_processes(
        items, config=config, processes=processes, on_idle=on_idle
    ):
        if cache is not None:
            cache.put(result)
        for index in work.remote[url]:
            place = located[index].place
            finding = Finding.from_result(result, place)
            finding.url = located[index].link.url  # as written, fragment and all
            if result.outcome == Outcome.INVALID_URL:
                finding.error = f"line {place.line}" + (f": {result.error}" if result.error else "")
            yield index, finding.accepted(selection.accept)


def politeness_estimate(remote: Iterable[str], interval: float) -> str:
    """A line saying how long the per-host interval makes the run take at least, when it is
    long enough to matter; "" otherwise."""
    hosts = Counter(urlsplit(url).hostname or "" for url in remote)
    if not hosts or interval <= 0:
        return ""
    host, count = hosts.most_common(1)[0]
    least = (count - 1) * interval
    if least < ESTIMATE_THRESHOLD:
        return ""
    return (
        f"{count} links to {host}: at least {_duration(least)} at {interval:g} s per host "
        f"(--per-host-interval to change)"
    )


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 120:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 120:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
