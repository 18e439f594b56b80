"""`--format sarif`: SARIF 2.1.0 for code-scanning tools (GitHub's upload-sarif among them).

One result per place where a link is failing (level "error") or could not be vouched for
("warning"); one rule per outcome. The document is written at the end: SARIF is one object.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from .findings import Finding
from .reportbase import QUIET_OUTCOMES, ReportWriter, detail

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
RULE_TEXT = {
    "not_found": "The link answers 404 or 410.",
    "soft_404": "The link answers 200 with a page that says it is not found.",
    "server_error": "The link answers with a server error.",
    "dns_error": "The link's host name does not resolve.",
    "connection_error": "The link's server cannot be reached.",
    "tls_error": "The link's TLS handshake fails.",
    "timeout": "The link does not answer in time.",
    "redirect_loop": "The link redirects in a loop.",
    "missing_file": "The relative link names a file that does not exist.",
    "missing_anchor": "The fragment names no heading or id in its page.",
    "blocked": "A bot wall or rate limit answered instead of the page.",
    "http_error": "The link answers with an unexpected status.",
    "invalid_url": "The text is not a URL that can be checked.",
    "forbidden_target": "The link points at an address the checker refuses to contact.",
    "check_error": "The checker failed on this link.",
}


class SarifWriter(ReportWriter):
    def __init__(self, stream: TextIO, *, flush_each: bool = True) -> None:
        super().__init__(stream, flush_each=flush_each)
        self.results: list[dict[str, Any]] = []
        self.rules: dict[str, int] = {}

    def _write(self, finding: Finding) -> None:
        if finding.outcome in QUIET_OUTCOMES:
            return
        rule_index = self.rules.setdefault(finding.outcome, len(self.rules))
        text = f"{finding.outcome}: {finding.url}"
        if detail(finding):
            text += f" [{detail(finding)}]"
        result: dict[str, Any] = {
            "ruleId": finding.outcome,
            "ruleIndex": rule_index,
            "level": "error" if finding.failing else "warning",
            "message": {"text": text},
        }
        if finding.place is not None:
            result["locations"] = [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(finding.place.file)},
                        "region": {
                            "startLine": finding.place.line,
                            "startColumn": finding.place.column,
                        },
                    }
                }
            ]
        if finding.status_code is not None:
            result["properties"] = {"statusCode": finding.status_code}
        self.results.append(result)

    def finish(self) -> None:
        rules = [
            {
                "id": outcome,
                "name": outcome,
                "shortDescription": {"text": RULE_TEXT.get(outcome, outcome)},
            }
            for outcome in self.rules
        ]
        log = {
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "checklinks",
                            "rules": rules,
                        }
                    },
                    "columnKind": "unicodeCodePoints",
                    "results": self.results,
                }
            ],
        }
        self.stream.write(json.dumps(log, indent=2) + "\n")


def _uri(path: str) -> str:
    """A relative file path as a URI reference (forward slashes, spaces and % escaped)."""
    from urllib.parse import quote

    return quote(path.replace("\\", "/"), safe="/._-~")
