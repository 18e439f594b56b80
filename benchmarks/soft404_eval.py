"""Soft-404 precision and recall on the labelled corpus, served as emulated sites on loopback.

    .venv/bin/python benchmarks/soft404_eval.py [--rules-only] [--corpus DIR]

Each site of the corpus gets its own server on 127.0.0.1 (its own port, so its own host) and
behaves as its manifest says for an address it does not know: `soft` serves its not-found page
with 200, `honest` answers 404 with it, `home` redirects to /. A positive is requested at an
address that does not exist, a negative at its own address. The real engine checks them all
(check_many, with the loopback servers allowed through the SSRF guard); --rules-only judges the
same fetches with classify() alone, without whatever the engine adds (the random-sibling probe).
Depends on nothing but this repository.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from curation.checker.classify import classify  # noqa: E402
from curation.checker.config import CheckerConfig  # noqa: E402
from curation.checker.engine import SNIFF_STOP_MARKER, check_many  # noqa: E402
from curation.checker.fetch import fetch_following_redirects  # noqa: E402
from curation.checker.guard import build_session  # noqa: E402
from curation.checker.outcomes import Outcome  # noqa: E402

CORPUS = REPO / "tests" / "checker" / "soft404_pages"
PRECISION_TARGET = 0.97
RECALL_TARGET = 0.95
RULES_ONLY_DEADLINE = 10.0


def refuse_names(host: str, port: int) -> list[tuple[Any, ...]]:
    """No name is ever resolved: every address in the corpus is 127.0.0.1."""
    raise socket.gaierror(socket.EAI_NONAME, f"{host}: names are not resolved here")


class _Handler(BaseHTTPRequestHandler):
    server: _SiteServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle and delayed ACKs add 40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        site = self.server.site
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        name = site["pages"].get(path)
        if name is not None:
            self._send(200, self.server.read(name))
        elif site["behaviour"] == "home":
            self._send(302, b"", {"Location": "/"})
        else:
            status = 200 if site["behaviour"] == "soft" else 404
            self._send(status, self.server.read(site["not_found"]))

    do_HEAD = do_GET

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: dict, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.site = site
        self.folder = root / "sites" / site["id"] if "folder" not in site else root / site["folder"]

    def read(self, name: str) -> bytes:
        return (self.folder / name).read_bytes()


@contextmanager
def serving(manifest: dict, root: Path) -> Iterator[dict[str, str]]:
    """Start one server per site; yields site id -> base URL ("http://127.0.0.1:PORT")."""
    servers = [_SiteServer(site, root) for site in manifest["sites"]]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    try:
        yield {s.site["id"]: f"http://127.0.0.1:{s.server_address[1]}" for s in servers}
    finally:
        # shutdown() waits for the serving loop's next poll: stop them all at once.
        stoppers = [threading.Thread(target=s.shutdown) for s in servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for server in servers:
            server.server_close()


@dataclass
class Report:
    positives: int = 0
    negatives: int = 0
    true_positives: int = 0
    misses: list[tuple[str, str]] = field(default_factory=list)  # (item id, rule)
    false_alarms: list[tuple[str, str]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        flagged = self.true_positives + len(self.false_alarms)
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.positives if self.positives else 1.0

    def lines(self) -> list[str]:
        out = [
            f"items: {self.positives} soft404, {self.negatives} real",
            f"precision {self.precision:.3f}  recall {self.recall:.3f}",
        ]
        out += [f"  miss        {item}  ({rule})" for item, rule in self.misses]
        out += [f"  false alarm {item}  ({rule})" for item, rule in self.false_alarms]
        return out


def load_manifest(root: Path = CORPUS) -> dict:
    return json.loads((root / "manifest.json").read_text(encoding="utf-8"))


def config_for(bases: dict[str, str]) -> CheckerConfig:
    hosts = frozenset(base.removeprefix("http://") for base in bases.values())
    return CheckerConfig(
        allowed_internal_hosts=hosts,
        per_host_interval=0.0,
        concurrency=32,
        per_host_concurrency=4,
        retries=0,
        resolver=refuse_names,
    )


def judge_with_engine(urls: list[str], config: CheckerConfig) -> dict[str, tuple[bool, str]]:
    return {
        r.url: (r.outcome == Outcome.SOFT_404, r.rule or r.outcome.value)
        for r in check_many(urls, config=config)
    }


def judge_with_rules(urls: list[str], config: CheckerConfig) -> dict[str, tuple[bool, str]]:
    """The same GET the engine sends (sniff size, stop marker, html_only), judged by classify()."""
    session = build_session(config)
    verdicts = {}
    try:
        for url in urls:
            chain = fetch_following_redirects(
                session, url, config=config, max_bytes=config.sniff_bytes,
                deadline=time.monotonic() + RULES_ONLY_DEADLINE, stop_at=SNIFF_STOP_MARKER,
                html_only=True,
            )  # fmt: skip
            outcome, rule = classify(url, chain)
            verdicts[url] = (outcome == Outcome.SOFT_404, rule)
    finally:
        session.close()
    return verdicts


def evaluate(root: Path = CORPUS, *, rules_only: bool = False) -> Report:
    manifest = load_manifest(root)
    report = Report()
    with serving(manifest, root) as bases:
        by_url = {bases[item["site"]] + item["path"]: item for item in manifest["items"]}
        judge = judge_with_rules if rules_only else judge_with_engine
        verdicts = judge(list(by_url), config_for(bases))
    for url, item in by_url.items():
        flagged, rule = verdicts[url]
        if item["label"] == "soft404":
            report.positives += 1
            if flagged:
                report.true_positives += 1
            else:
                report.misses.append((item["id"], rule))
        else:
            report.negatives += 1
            if flagged:
                report.false_alarms.append((item["id"], rule))
    report.misses.sort()
    report.false_alarms.sort()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--rules-only", action="store_true")
    args = parser.parse_args()
    report = evaluate(args.corpus, rules_only=args.rules_only)
    print("\n".join(report.lines()))
    met = report.precision >= PRECISION_TARGET and report.recall >= RECALL_TARGET
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
