"""The arguments of `checklinks`: the linter's (with its help and examples) and the catalogue's.

The linter's parser is the one `checklinks --help` shows; the Django command declares the same
arguments plus the catalogue mode's.
"""

from __future__ import annotations

import argparse
from typing import Any

from .formats import FORMATS
from .linkcache import CACHE_FILE
from .selection import IGNORE_FILE
from .shards import MAX_PROCESSES

EXCLUDE_CLASSES = ("private", "loopback", "link-local")
EXCLUDE_SWITCHES = {
    "private": "leave links to private addresses (10/8, 172.16/12, 192.168/16, fc00::/7) alone",
    "loopback": "leave links to localhost and 127/8, ::1 alone",
    "link-local": "leave links to link-local addresses (169.254/16, fe80::/10) alone",
    "all-private": "all three of the above",
}


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _seconds(*, positive: bool) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value != value or value < 0 or (positive and value == 0):
            raise argparse.ArgumentTypeError(f"out of range: {text!r}")
        return value

    return parse


HELP_EPILOG = """\
examples:
  checklinks README.md                        one file
  checklinks --input 'docs/**/*.md' README.md globs (quoted: expanded here, ** included)
  checklinks docs/                            a folder: its .md, .markdown, .html, .htm, .txt
  cat list.md | checklinks -                  standard input, read as Markdown
  checklinks README.md --format github        annotations on the pull request's lines
  checklinks README.md --cache                re-run after a flaky failure: only failures again
  checklinks README.md --exclude '^https://twitter\\.com/' --accept 200..299,403
  checklinks docs/ --per-host-interval 0.1    faster on your own site (default 1 s per host)

Relative links are checked against the file system and #fragments against headings (GitHub's
anchors) and ids; mailto:, tel: and links with no base are counted as skipped. Patterns, one
a line, are also read from .checklinksignore in the current directory. Settings come from the
LINKCHECK_* variables (README, "Link checker"). Exit status: 0 when no link is failing, 1 when
one is, 2 on a usage error.
"""
LINTER_DESCRIPTION = (
    "Check the links of Markdown, HTML and text files: web links over the network (soft 404s\n"
    "and bot walls told apart), relative links and #fragments against the files."
)


def add_linter_arguments(parser: argparse.ArgumentParser) -> None:
    """The linter's options, shared by the help, the Django-free path and the Django command."""
    inputs = parser.add_argument_group("inputs")
    inputs.add_argument(
        "paths", nargs="*", metavar="FILE", help="files, folders, globs, - for stdin"
    )
    inputs.add_argument(
        "--input", nargs="+", action="extend", metavar="FILE",
        help="the same as FILE (repeatable): text, Markdown or HTML files, folders, globs, -",
    )  # fmt: skip
    output = parser.add_argument_group("output")
    output.add_argument("--format", choices=FORMATS, default="text")
    selection = parser.add_argument_group("selection")
    selection.add_argument(
        "--exclude", action="append", default=[], metavar="REGEX", help="skip matching links"
    )
    selection.add_argument(
        "--include", action="append", default=[], metavar="REGEX",
        help="check matching links even if excluded",
    )  # fmt: skip
    selection.add_argument(
        "--ignore-file",
        metavar="PATH",
        help=f"exclude patterns, one a line (default: {IGNORE_FILE})",
    )
    selection.add_argument(
        "--accept", metavar="CODES", help="statuses taken as ok, such as 200..299,403"
    )
    for name, what in EXCLUDE_SWITCHES.items():
        selection.add_argument(f"--exclude-{name}", action="store_true", help=what)
    cache = parser.add_argument_group("cache")
    cache.add_argument(
        "--cache", action="store_true", help=f"reuse results that were fine (file {CACHE_FILE})"
    )
    cache.add_argument("--cache-file", metavar="PATH", help="where --cache keeps its results")
    cache.add_argument(
        "--max-cache-age", default="1d", metavar="AGE", help="such as 30m, 12h, 2d (default 1d)"
    )
    pace = parser.add_argument_group("pace")
    pace.add_argument("--concurrency", type=_positive_int, metavar="N", help="requests in flight")
    pace.add_argument("--per-host-concurrency", type=_positive_int, metavar="N", help="per host")
    pace.add_argument(
        "--per-host-interval", type=_seconds(positive=False), metavar="SECONDS",
        help="seconds between two requests to one host (default 1; 0 on your own site)",
    )  # fmt: skip
    pace.add_argument(
        "--timeout", type=_seconds(positive=True), metavar="SECONDS", help="total seconds per URL"
    )
    pace.add_argument(
        "--processes",
        type=_positive_int,
        metavar="N",
        help=f"worker processes, hosts shared out between them (default: one per CPU, at most "
        f"{MAX_PROCESSES})",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_linter_arguments(parser)
    parser.add_argument("--topic", metavar="SLUG")
    parser.add_argument("--collection", metavar="SLUG")
    parser.add_argument("--health", metavar="STATE")
    parser.add_argument(
        "--all", action="store_true", help="every catalogue resource, archived ones included"
    )


def linter_parser(prog: str = "checklinks", parser_class: type = argparse.ArgumentParser) -> Any:
    parser = parser_class(
        prog=prog,
        description=LINTER_DESCRIPTION,
        epilog=HELP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_linter_arguments(parser)
    return parser
