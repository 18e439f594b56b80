"""`checklinks`: the arguments, the file check and the streamed report, shared by both entries.

`python manage.py checklinks --input FILE` runs `main` before Django starts (see manage.py):
checking a file of links touches no database, and Django's set-up (0.4 s here, ten times
Python's own start) would otherwise be most of a CI lint step. The Django command
(curation/management/commands/checklinks.py) declares the same arguments, checks files with
the same functions and adds the catalogue mode, so both entries behave alike.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TextIO

from .config import CheckerConfig, config_from_settings, read_environment
from .formats import FORMATS, make_writer
from .inputs import InputLink, read_links
from .outcomes import CheckResult, Outcome
from .shards import MAX_PROCESSES, check_in_processes, default_processes

USAGE_ERROR = 2
FAILING = 1
INTERRUPTED_BY_SIGINT = 128 + signal.SIGINT
INTERRUPTED_BY_SIGTERM = 128 + signal.SIGTERM
# The code a shell reports for a command killed by SIGPIPE: the report's reader went away.
STDOUT_CLOSED = 128 + signal.SIGPIPE
CATALOGUE_OPTIONS = ("topic", "collection", "health", "all")
DESCRIPTION = (
    "Check links and report their health. With --input, checks the URLs in a text, Markdown "
    "or HTML file without touching the database; otherwise checks catalogue resources and "
    "records each result. Exits 1 if any link is failing, 2 on a usage error."
)


class UsageError(Exception):
    """Bad arguments or an unreadable input: exit 2 before any report is written."""


class _NotOurs(Exception):
    """The arguments are not for the Django-free path (or are wrong: Django's parser says so)."""


class _QuietParser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise _NotOurs(message)


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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", metavar="FILE", help="text, Markdown or HTML file of links")
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument("--concurrency", type=_positive_int)
    parser.add_argument("--per-host-concurrency", type=_positive_int)
    parser.add_argument("--per-host-interval", type=_seconds(positive=False))
    parser.add_argument("--timeout", type=_seconds(positive=True), help="total seconds per URL")
    parser.add_argument(
        "--processes",
        type=_positive_int,
        help=f"worker processes for --input, hosts shared out between them (default: one per "
        f"CPU, at most {MAX_PROCESSES})",
    )
    parser.add_argument("--topic", metavar="SLUG")
    parser.add_argument("--collection", metavar="SLUG")
    parser.add_argument("--health", metavar="STATE")
    parser.add_argument(
        "--all", action="store_true", help="every catalogue resource, archived ones included"
    )


def check_options(options: Mapping[str, Any]) -> None:
    selected = any(options[name] for name in CATALOGUE_OPTIONS)
    if options["input"] and selected:
        raise UsageError("--input cannot be combined with --topic/--collection/--health/--all")
    if not options["input"] and not selected:
        # Recording into the catalogue changes health states: never by default.
        raise UsageError(
            "say what to check: --input FILE, or catalogue resources with "
            "--all, --topic SLUG, --collection SLUG or --health STATE"
        )


def make_config(values: Mapping[str, Any], options: Mapping[str, Any]) -> CheckerConfig:
    try:
        return config_from_settings(
            values,
            concurrency=options["concurrency"],
            per_host_concurrency=options["per_host_concurrency"],
            per_host_interval=options["per_host_interval"],
            deadline=options["timeout"],
        )
    except ValueError as exc:
        raise UsageError(f"bad link checker settings: {exc}") from exc


def check_file(
    path: str,
    config: CheckerConfig,
    *,
    processes: int | None = None,
    on_idle: Callable[[], None] | None = None,
    ordered: bool = False,
) -> Iterator[CheckResult]:
    """Results for the links of a file, as they complete; junk lines as invalid_url.

    `processes` worker processes share the hosts out (None: one per CPU, see shards.py).
    `on_idle()` is called whenever the run is about to wait for results. `ordered`: results
    in the order of the file instead (see in_input_order()).
    """
    try:
        # Open once up front so that a missing or unreadable file is a usage error (exit 2)
        # before any output, not an exception in the middle of the report.
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    results = _check_links(read_links(path), config, processes or default_processes(), on_idle)
    return in_input_order(results) if ordered else _as_completed(results)


def ordered_by_format(fmt: str) -> bool:
    """The documents (json, markdown) list the file top to bottom, so that two runs over one
    file compare line by line; the text report is a live log, each result as soon as known."""
    return fmt in ("json", "markdown")


def _check_links(
    links: Iterator[InputLink],
    config: CheckerConfig,
    processes: int,
    on_idle: Callable[[], None] | None = None,
) -> Iterator[tuple[int, CheckResult]]:
    """(position in the input, result) as checks complete; junk lines as soon as they are read."""
    junk: list[tuple[int, CheckResult]] = []
    read = 0

    def checkable() -> Iterator[tuple[tuple[int, InputLink], str]]:
        nonlocal read
        for link in links:
            position, read = read, read + 1
            if link.error:
                # Not a URL at all: report it with its line number instead of checking it.
                result = CheckResult(
                    url=link.url, outcome=Outcome.INVALID_URL, error=link.error, rule="invalid-url"
                )
                junk.append((position, result))
            else:
                yield (position, link), link.url

    checked = check_in_processes(checkable(), config=config, processes=processes, on_idle=on_idle)
    for (position, link), result in checked:
        yield from _drain(junk)
        if not result.error and result.outcome == Outcome.INVALID_URL:
            result.error = f"line {link.line}"
        yield position, result
    yield from _drain(junk)


def _drain(junk: list[tuple[int, CheckResult]]) -> Iterator[tuple[int, CheckResult]]:
    while junk:
        yield junk.pop(0)


def _as_completed(results: Iterator[tuple[int, CheckResult]]) -> Iterator[CheckResult]:
    with contextlib.closing(results):  # type: ignore[type-var]
        for _, result in results:
            yield result


def in_input_order(results: Iterator[tuple[int, CheckResult]]) -> Iterator[CheckResult]:
    """Results in the order of the input, each as soon as every one above it is out.

    A result ready before the ones above it waits for them (at most about a deadline's worth of
    results). Interrupted, it gives what it holds, in order, before the interruption goes on.
    """
    held: dict[int, CheckResult] = {}
    turn = 0
    try:
        with contextlib.closing(results):  # type: ignore[type-var]
            for position, result in results:
                held[position] = result
                while turn in held:
                    yield held.pop(turn)
                    turn += 1
        yield from (held.pop(position) for position in sorted(held))
    except (KeyboardInterrupt, _Interrupted):
        # What was checked still goes into the report, then the interruption goes on.
        for position in sorted(held):
            yield held.pop(position)
        raise


def _rest_after_interruption(
    results: Iterator[CheckResult], interruption: BaseException
) -> Iterator[CheckResult]:
    """The results `results` holds back, once the run is interrupted outside of it."""
    throw = getattr(results, "throw", None)
    if throw is None:
        return
    try:
        result = throw(interruption)
        while True:
            yield result
            result = next(results)
    except (StopIteration, KeyboardInterrupt, _Interrupted):
        return


class Progress:
    """A one-line counter on stderr, only when a human is watching (stderr is a TTY)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.done = self.failing = 0

    def update(self, result: CheckResult) -> None:
        self.done += 1
        self.failing += result.failing
        if self.enabled:
            self.stream.write(f"\rchecked {self.done}, failing {self.failing}")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


class _Interrupted(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Let a CI runner's SIGTERM end the run like Ctrl-C does, with the report closed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise _Interrupted(INTERRUPTED_BY_SIGTERM)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def report(
    results: Iterable[CheckResult],
    fmt: str,
    stdout: TextIO,
    stderr: TextIO,
    *,
    flush_each: bool = True,
) -> int:
    """Write every result as it comes; the exit code: 0, 1 (a failing link), 130/143 (signal),
    141 (stdout closed by its reader).

    Even when interrupted the report is ended properly (a JSON array stays parseable) with what
    was checked so far. `flush_each=False` when the producer flushes stdout itself (on_idle).
    """
    writer = make_writer(fmt, stdout, flush_each=flush_each)
    progress = Progress(stderr)
    failing = False
    interrupted: int | None = None
    checked = iter(results)
    try:
        with _sigterm_as_interrupt():
            writer.start()
            for result in checked:
                writer.write(result)
                progress.update(result)
                failing = failing or result.failing
    except (_Interrupted, KeyboardInterrupt) as exc:
        interrupted = exc.code if isinstance(exc, _Interrupted) else INTERRUPTED_BY_SIGINT
        # Checked but still held for their turn in the input order (when the signal came while
        # a result was being written, not while the checks were awaited): report them too.
        for result in _rest_after_interruption(checked, exc):
            writer.write(result)
            failing = failing or result.failing
    except BrokenPipeError:
        # Whoever reads the report has stopped (`checklinks ... | head`): stop checking too,
        # quietly, the way a command in a pipeline does, and say so in the exit code.
        _close(checked)
        _discard_output(stdout)
        return STDOUT_CLOSED
    finally:
        progress.close()
    writer.finish()
    if interrupted is not None:
        stderr.write("interrupted: the report holds the links checked so far\n")
        return interrupted
    return FAILING if failing else 0


def _close(iterator: Iterator[CheckResult]) -> None:
    """End a run early: a generator's close() stops its workers and checks at once."""
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


def _discard_output(stream: TextIO) -> None:
    """Point a closed stdout at /dev/null, so that the flush at exit does not fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def main(argv: list[str], environ: Mapping[str, str] = os.environ) -> int | None:
    """Run `checklinks` for a file without Django; None when the arguments need Django.

    Anything this parser does not know (catalogue mode, Django's own options such as
    --settings) is left to the Django command, which then sees the arguments unchanged.
    """
    parser = _QuietParser(prog="manage.py checklinks", add_help=False)
    add_arguments(parser)
    try:
        options, unknown = parser.parse_known_args(argv)
    except _NotOurs:
        return None  # Django's parser reports it, exactly as it always has.
    if unknown or not options.input or "-h" in argv or "--help" in argv:
        return None
    try:
        check_options(vars(options))
        config = make_config(read_environment(environ), vars(options))
        results = check_file(
            options.input,
            config,
            processes=options.processes,
            on_idle=sys.stdout.flush,
            ordered=ordered_by_format(options.format),
        )
    except (UsageError, ValueError) as exc:
        sys.stderr.write(f"CommandError: {exc}\n")
        return USAGE_ERROR
    return report(results, options.format, sys.stdout, sys.stderr, flush_each=False)
