"""`--cache`: results kept in a JSON file between runs, so that a CI job re-run after a flaky
failure re-checks only what failed.

Only results that are not failing are reused, and only while younger than the maximum age: a
broken link is checked again on every run, and a link that was fine is checked again once its
entry is older than `--max-cache-age`, so the cache never hides a link that broke since.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from .outcomes import CheckResult

CACHE_FILE = ".checklinkscache"
DEFAULT_MAX_AGE = 24 * 3600.0
CACHE_VERSION = 1
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> float:
    """`90`, `90s`, `30m`, `12h`, `2d`, `1w` in seconds."""
    match = _DURATION.match(text.lower())
    if not match:
        raise ValueError(f"not a duration (such as 30m, 12h, 2d): {text!r}")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class LinkCache:
    """URL -> (checked at, result). Load, look up, store, save; problems are warnings."""

    def __init__(self, path: str | Path, *, max_age: float, now: float | None = None) -> None:
        self.path = Path(path)
        self.max_age = max_age
        self.now = time.time() if now is None else now
        self.entries: dict[str, dict[str, Any]] = {}
        self.warning = ""

    def load(self) -> LinkCache:
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
            if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
                raise ValueError("not a checklinks cache of this version")
            entries = data["entries"]
            if not isinstance(entries, dict):
                raise ValueError("entries is not an object")
            self.entries = entries
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # A corrupt cache costs one full run, never the run itself.
            self.warning = f"ignoring the cache {self.path}: {exc}"
            self.entries = {}
        return self

    def get(self, url: str) -> CheckResult | None:
        """The stored result for `url` if it is fresh and was not failing."""
        entry = self.entries.get(url)
        if not isinstance(entry, dict):
            return None
        try:
            age = self.now - float(entry["checked_at"])
            result = CheckResult.from_dict(entry["result"])
        except (KeyError, TypeError, ValueError):
            return None
        if age < 0 or age >= self.max_age or result.failing:
            return None
        return result

    def put(self, result: CheckResult) -> None:
        self.entries[result.url] = {"checked_at": self.now, "result": result.to_dict()}

    def save(self) -> None:
        """Write atomically (a temporary file renamed over the old one), dropping expired
        entries. Problems become a warning."""
        fresh = {
            url: entry
            for url, entry in self.entries.items()
            if isinstance(entry, dict) and self._fresh(entry)
        }
        payload = {"version": CACHE_VERSION, "entries": fresh}
        folder = self.path.parent if str(self.path.parent) else Path(".")
        try:
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".checklinkscache-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(payload, out, separators=(",", ":"))
            os.replace(temporary, self.path)
        except OSError as exc:
            self.warning = f"could not write the cache {self.path}: {exc}"
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(temporary)

    def _fresh(self, entry: dict[str, Any]) -> bool:
        try:
            return 0 <= self.now - float(entry["checked_at"]) < self.max_age
        except (KeyError, TypeError, ValueError):
            return False
