"""`checklinks`: the linter's run, the streamed report and the entry points.

`python manage.py checklinks --input FILE` runs `main` before Django starts (see manage.py),
and so do the `checklinks` console script (`run`) and `python -m curation.checker`: linting
files touches no database, and Django's set-up (0.4 s here, ten times Python's own start)
would otherwise be most of a CI lint step. The Django command
(curation/management/commands/checklinks.py) declares the same arguments (arguments.py), runs
the same linter (`lint_inputs`) and adds the catalogue mode, so every entry behaves alike.
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

from .arguments import EXCLUDE_CLASSES, add_arguments, linter_parser
from .config import CheckerConfig, config_from_settings, read_environment
from .findings import Finding
from .formats import make_writer
from .linkcache import CACHE_FILE, LinkCache, parse_duration
from .lint import InputError, expand_inputs, plan, politeness_estimate, read_places
from .lint import run as lint_run
from .selection import IGNORE_FILE, Selection, compile_patterns, parse_accept, read_ignore_file
from .shards import default_processes

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


def inputs_of(options: Mapping[str, Any]) -> list[str]:
    return [*(options.get("input") or []), *(options.get("paths") or [])]


def check_options(options: Mapping[str, Any]) -> None:
    selected = any(options[name] for name in CATALOGUE_OPTIONS)
    if inputs_of(options) and selected:
        raise UsageError("--input cannot be combined with --topic/--collection/--health/--all")
    if not inputs_of(options) and not selected:
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


def make_selection(options: Mapping[str, Any], cwd: str = ".") -> Selection:
    """The --include/--exclude patterns, the ignore file (given, or .checklinksignore in the
    current directory when there is one), the address classes and --accept."""
    try:
        exclude = compile_patterns(options.get("exclude") or [], "--exclude")
        ignore_file = options.get("ignore_file")
        if ignore_file is None and os.path.isfile(os.path.join(cwd, IGNORE_FILE)):
            ignore_file = os.path.join(cwd, IGNORE_FILE)
        if ignore_file is not None:
            exclude += compile_patterns(read_ignore_file(ignore_file), ignore_file)
        classes = {
            name for name in EXCLUDE_CLASSES if options.get("exclude_" + name.replace("-", "_"))
        }
        if options.get("exclude_all_private"):
            classes |= set(EXCLUDE_CLASSES)
        return Selection(
            include=compile_patterns(options.get("include") or [], "--include"),
            exclude=exclude,
            excluded_classes=frozenset(classes),
            accept=parse_accept(options.get("accept") or ""),
        )
    except OSError as exc:
        raise UsageError(f"cannot read the ignore file: {exc}") from exc
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def open_cache(options: Mapping[str, Any], stderr: TextIO) -> LinkCache | None:
    if not options.get("cache") and not options.get("cache_file"):
        return None
    try:
        max_age = parse_duration(options.get("max_cache_age") or "1d")
    except ValueError as exc:
        raise UsageError(f"--max-cache-age: {exc}") from exc
    cache = LinkCache(options.get("cache_file") or CACHE_FILE, max_age=max_age).load()
    if cache.warning:
        stderr.write(f"warning: {cache.warning}\n")
    return cache


def lint_inputs(
    options: Mapping[str, Any],
    config: CheckerConfig,
    *,
    stdout: TextIO,
    stderr: TextIO,
    stdin: Iterable[str] | None = None,
    on_idle: Callable[[], None] | None = None,
    flush_each: bool = True,
) -> int:
    """The linter, from options to exit code: read every input, check each link once, report
    it at each place, keep the cache."""
    try:
        sources = expand_inputs(inputs_of(options))
    except InputError as exc:
        raise UsageError(str(exc)) from exc
    selection = make_selection(options)
    cache = open_cache(options, stderr)
    located = read_places(sources, stdin)
    work = plan(located, selection, cache)
    estimate = politeness_estimate(work.remote, config.per_host_interval)
    if estimate:
        stderr.write(estimate + "\n")
        stderr.flush()
    processes = options.get("processes") or default_processes()
    findings = lint_run(
        located, work, config, selection=selection, cache=cache, processes=processes,
        on_idle=on_idle,
    )  # fmt: skip
    ordered = ordered_by_format(options["format"])
    results = in_input_order(findings) if ordered else _as_completed(findings)
    try:
        return report(
            results, options["format"], stdout, stderr, flush_each=flush_each, located=True
        )
    finally:
        if cache is not None:
            cache.save()
            if cache.warning:
                stderr.write(f"warning: {cache.warning}\n")


def ordered_by_format(fmt: str) -> bool:
    """The documents (json, markdown, sarif) list the files top to bottom, so that two runs
    over one file compare line by line; the text report is a live log, each result as soon as
    known."""
    return fmt in ("json", "markdown", "sarif", "github")


def _as_completed(results: Iterator[tuple[int, Finding]]) -> Iterator[Finding]:
    with contextlib.closing(results):  # type: ignore[type-var]
        for _, result in results:
            yield result


def in_input_order(results: Iterator[tuple[int, Finding]]) -> Iterator[Finding]:
    """Results in the order of the input, each as soon as every one above it is out.

    A result ready before the ones above it waits for them (at most about a deadline's worth of
    results). Interrupted, it gives what it holds, in order, before the interruption goes on.
    """
    held: dict[int, Finding] = {}
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
    results: Iterator[Finding], interruption: BaseException
) -> Iterator[Finding]:
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

    def update(self, result: Finding) -> None:
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
    results: Iterable[Finding],
    fmt: str,
    stdout: TextIO,
    stderr: TextIO,
    *,
    flush_each: bool = True,
    located: bool = False,
) -> int:
    """Write every result as it comes; the exit code: 0, 1 (a failing link), 130/143 (signal),
    141 (stdout closed by its reader).

    Even when interrupted the report is ended properly (a JSON array stays parseable) with what
    was checked so far. `flush_each=False` when the producer flushes stdout itself (on_idle).
    """
    writer = make_writer(fmt, stdout, flush_each=flush_each, located=located)
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
    if not writer.summary_inline:
        stderr.write(writer.summary() + "\n")
    if interrupted is not None:
        stderr.write("interrupted: the report holds the links checked so far\n")
        return interrupted
    return FAILING if failing else 0


def _close(iterator: Iterator[Finding]) -> None:
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


def _wants_help(argv: list[str]) -> bool:
    return any(arg in ("-h", "--help") for arg in argv) and not any(
        f"--{name}" in argv for name in CATALOGUE_OPTIONS
    )


def main(
    argv: list[str] | None = None,
    environ: Mapping[str, str] = os.environ,
    *,
    prog: str = "manage.py checklinks",
) -> int | None:
    """Run the linter without Django; None when the arguments need Django.

    Anything this parser does not know (catalogue mode, Django's own options such as
    --settings) is left to the Django command, which then sees the arguments unchanged.
    """
    argv = sys.argv[1:] if argv is None else argv
    if _wants_help(argv):
        linter_parser(prog).print_help(sys.stdout)
        return 0
    parser = _QuietParser(prog=prog, add_help=False)
    add_arguments(parser)
    try:
        options, unknown = parser.parse_known_args(argv)
    except _NotOurs:
        return None  # Django's parser reports it, exactly as it always has.
    if unknown or not inputs_of(vars(options)):
        return None
    try:
        check_options(vars(options))
        config = make_config(read_environment(environ), vars(options))
        return lint_inputs(
            vars(options), config, stdout=sys.stdout, stderr=sys.stderr,
            on_idle=sys.stdout.flush, flush_each=False,
        )  # fmt: skip
    except (UsageError, ValueError) as exc:
        sys.stderr.write(f"CommandError: {exc}\n")
        return USAGE_ERROR


def run() -> int:
    """The `checklinks` console script: the linter alone, no Django, no catalogue."""
    argv = sys.argv[1:]
    code = main(argv, prog="checklinks")
    if code is not None:
        return code
    # Not for the Django-free path: a plain parser says what is wrong with the arguments
    # (and exits 2 for a malformed one).
    parser = linter_parser()
    _, unknown = parser.parse_known_args(argv)
    catalogue = [f"--{name}" for name in CATALOGUE_OPTIONS if f"--{name}" in argv]
    if catalogue:
        sys.stderr.write(
            f"checklinks: error: {' '.join(catalogue)}: the catalogue mode runs as "
            f"python manage.py checklinks\n"
        )
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    else:
        parser.error("say what to check: FILE, a folder, a glob or - for standard input")
    return USAGE_ERROR
