"""A stored link report rendered as JSON, CSV or Markdown.

Every renderer reads only the report's stored data, so the API, the command, the admin and
the email show the same figures however long after generation they are asked for.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

from curation.models import LinkReport
from curation.reports.markdown import render_markdown

FORMATS = ("json", "csv", "md")
CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}
CSV_COLUMNS = [
    "section",
    "resource_id",
    "title",
    "url",
    "health",
    "count",
    "change",
    "date",
    "status_code",
    "outcome",
    "rule",
    "suggested_url",
    "detail",
]
# A cell starting with one of these is a formula to a spreadsheet: a hostile page title
# could otherwise run in a curator's Excel.
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

Row = dict[str, Any]


def report_payload(report: LinkReport) -> dict[str, Any]:
    """The JSON document for a report: its identity and status around the stored data."""
    return {
        "id": report.pk,
        "status": report.status,
        "period_start": report.period_start.isoformat(),
        "period_end": report.period_end.isoformat(),
        "generated_at": report.generated_at.isoformat() if report.generated_at else None,
        "emailed_at": report.emailed_at.isoformat() if report.emailed_at else None,
        "data": report.data,
    }


def render_json(report: LinkReport) -> str:
    return json.dumps(report_payload(report), indent=2, ensure_ascii=False)


# --- CSV: one row per fact, a `section` column saying which part of the report it is ---------


def _items(data: dict[str, Any], section: str) -> list[dict[str, Any]]:
    return data.get(section, {}).get("items", [])


def _resource(section: str, item: dict[str, Any]) -> Row:
    return {
        "section": section,
        "resource_id": item["resource_id"],
        "title": item["title"],
        "url": item["url"],
        "health": item["current_health"],
    }


def _summary_rows(data: dict[str, Any]) -> Iterator[Row]:
    yield {
        "section": "summary",
        "detail": data.get("summary", ""),
        "count": int(data.get("changed", False)),
    }
    for state in data.get("totals", {}).get("states", []):
        yield {
            "section": "totals",
            "health": state["state"],
            "count": state["count"],
            "change": state["change"],
        }


def _newly_broken_rows(data: dict[str, Any]) -> Iterator[Row]:
    for item in _items(data, "newly_broken"):
        outcomes = " ".join(e["outcome"] for e in item.get("evidence", []))
        yield {
            **_resource("newly_broken", item),
            "count": item["consecutive_failures"],
            "date": item["broken_at"],
            "status_code": item["last_status_code"],
            "outcome": item["last_outcome"],
            "rule": item["rule"],
            "detail": f"first failure {item['first_failure_at'] or '-'}; recent: {outcomes}"
            + (f"; archived copy {item['archived_url']}" if item.get("archived_url") else ""),
        }


def _recovered_and_moved_rows(data: dict[str, Any]) -> Iterator[Row]:
    for item in _items(data, "recovered"):
        yield {
            **_resource("recovered", item),
            "date": item["recovered_at"],
            "status_code": item["last_status_code"],
            "detail": f"was {item['was']}",
        }
    for item in _items(data, "moved"):
        yield {
            **_resource("moved", item),
            "date": item["moved_at"],
            "status_code": item["last_status_code"],
            "suggested_url": item["suggested_url"],
            "detail": "new this period" if item["new_in_period"] else "",
        }


def _standing_rows(data: dict[str, Any]) -> Iterator[Row]:
    for section in ("unverifiable", "soft_404"):
        for item in _items(data, section):
            yield {
                **_resource(section, item),
                "date": item["since"],
                "status_code": item["last_status_code"],
                "outcome": item["last_outcome"],
            }


def _domain_and_list_rows(data: dict[str, Any]) -> Iterator[Row]:
    for item in _items(data, "domains"):
        yield {
            "section": "domains",
            "title": item["domain"],
            "count": item["total"],
            "detail": (
                f"broken {item['broken']}, suspect {item['suspect']}, "
                f"unverifiable {item['unverifiable']}"
            ),
        }
    for item in _items(data, "collections"):
        yield {
            "section": "collections",
            "resource_id": "",
            "title": item["title"],
            "count": item["broken"] + item["moved"],
            "detail": (
                f"{item['broken']} broken ({item['required_broken']} required), "
                f"{item['moved']} moved, of {item['items_total']} items"
            ),
        }


def _checker_rows(data: dict[str, Any]) -> Iterator[Row]:
    checks = data.get("checks", {})
    detail = f"counted {checks.get('counted', 0)}, failing {checks.get('failing', 0)}"
    # Reports from before check errors were counted lack the key: they say nothing about them.
    if "check_errors" in checks:
        detail += f", check errors {checks['check_errors']}"
    yield {"section": "checks", "count": checks.get("total", 0), "detail": detail}
    for item in _items(data, "incidents"):
        yield {
            "section": "incidents",
            "date": item["started_at"],
            "count": item["checks_discarded"],
            "detail": f"{item['reason']} (ended {item['ended_at'] or 'not yet'})",
        }


def _learner_and_review_rows(data: dict[str, Any]) -> Iterator[Row]:
    for item in _items(data, "problem_reports"):
        kinds = ", ".join(f"{n} {kind}" for kind, n in item["kinds"].items())
        yield {
            **_resource("problem_reports", item),
            "count": item["count"],
            "date": item["latest_at"],
            "detail": kinds,
        }
    for item in _items(data, "needs_review"):
        yield {
            **_resource("needs_review", item),
            "date": item["review_due_at"],
            "detail": "; ".join(item["reasons"]),
        }


CSV_SECTIONS = (
    _summary_rows,
    _newly_broken_rows,
    _recovered_and_moved_rows,
    _standing_rows,
    _domain_and_list_rows,
    _checker_rows,
    _learner_and_review_rows,
)


def csv_rows(data: dict[str, Any]) -> list[Row]:
    """One row per fact, a `section` column saying which part of the report it belongs to."""
    return [row for rows in CSV_SECTIONS for row in rows(data)]


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(CSV_FORMULA_PREFIXES):
        return "'" + value
    return "" if value is None else value


def render_csv(report: LinkReport) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in csv_rows(report.data):
        writer.writerow({column: _cell(row.get(column)) for column in CSV_COLUMNS})
    return buffer.getvalue()


RENDERERS: dict[str, Callable[[LinkReport], str]] = {
    "json": render_json,
    "csv": render_csv,
    "md": render_markdown,
}


def render(report: LinkReport, fmt: str) -> str:
    """The report in `fmt` (one of FORMATS); ValueError for anything else."""
    try:
        return RENDERERS[fmt](report)
    except KeyError:
        raise ValueError(
            f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}"
        ) from None
