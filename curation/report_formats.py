"""A stored link report rendered as JSON, CSV, Markdown, and its health chart as SVG.

Every renderer reads only the report's stored data, so the API, the command, the admin and
the email show the same figures however long after generation they are asked for.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from curation.models import LinkReport

FORMATS = ("json", "csv", "md")
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
# Escaped wherever they appear; a leading "-", "+" or "1." never occurs because escaped text
# always follows a list marker, a table pipe or a word of ours.
MARKDOWN_SPECIAL = "\\`*_{}[]<>()#!|~"
STATE_COLOURS = {
    "unknown": "#9e9e9e",
    "healthy": "#2e7d32",
    "moved": "#1565c0",
    "suspect": "#f9a825",
    "broken": "#c62828",
    "unverifiable": "#6a1b9a",
}
SECTION_TITLES = {
    "newly_broken": "Newly broken",
    "recovered": "Recovered",
    "moved": "Moved",
    "unverifiable": "Unverifiable (bot walls)",
    "soft_404": "Soft 404s",
    "domains": "Domains with the most failures",
    "collections": "Published lists with broken or moved items",
    "incidents": "Checker-offline incidents",
}


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


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(CSV_FORMULA_PREFIXES):
        return "'" + value
    return "" if value is None else value


def csv_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per fact, a `section` column saying which part of the report it belongs to."""
    rows: list[dict[str, Any]] = [
        {
            "section": "summary",
            "detail": data.get("summary", ""),
            "count": int(data.get("changed", False)),
        }
    ]
    for state in data.get("totals", {}).get("states", []):
        rows.append(
            {
                "section": "totals",
                "health": state["state"],
                "count": state["count"],
                "change": state["change"],
            }
        )
    for item in data.get("newly_broken", {}).get("items", []):
        outcomes = " ".join(e["outcome"] for e in item.get("evidence", []))
        rows.append(
            {
                "section": "newly_broken",
                "resource_id": item["resource_id"],
                "title": item["title"],
                "url": item["url"],
                "health": item["current_health"],
                "count": item["consecutive_failures"],
                "date": item["broken_at"],
                "status_code": item["last_status_code"],
                "outcome": item["last_outcome"],
                "rule": item["rule"],
                "detail": f"first failure {item['first_failure_at'] or '-'}; recent: {outcomes}",
            }
        )
    for item in data.get("recovered", {}).get("items", []):
        rows.append(
            {
                "section": "recovered",
                "resource_id": item["resource_id"],
                "title": item["title"],
                "url": item["url"],
                "health": item["current_health"],
                "date": item["recovered_at"],
                "status_code": item["last_status_code"],
                "detail": f"was {item['was']}",
            }
        )
    for item in data.get("moved", {}).get("items", []):
        rows.append(
            {
                "section": "moved",
                "resource_id": item["resource_id"],
                "title": item["title"],
                "url": item["url"],
                "health": item["current_health"],
                "date": item["moved_at"],
                "status_code": item["last_status_code"],
                "suggested_url": item["suggested_url"],
                "detail": "new this period" if item["new_in_period"] else "",
            }
        )
    for section in ("unverifiable", "soft_404"):
        for item in data.get(section, {}).get("items", []):
            rows.append(
                {
                    "section": section,
                    "resource_id": item["resource_id"],
                    "title": item["title"],
                    "url": item["url"],
                    "health": item["current_health"],
                    "date": item["since"],
                    "status_code": item["last_status_code"],
                    "outcome": item["last_outcome"],
                }
            )
    for item in data.get("domains", {}).get("items", []):
        rows.append(
            {
                "section": "domains",
                "title": item["domain"],
                "count": item["total"],
                "detail": (
                    f"broken {item['broken']}, suspect {item['suspect']}, "
                    f"unverifiable {item['unverifiable']}"
                ),
            }
        )
    for item in data.get("collections", {}).get("items", []):
        rows.append(
            {
                "section": "collections",
                "resource_id": "",
                "title": item["title"],
                "count": item["broken"] + item["moved"],
                "detail": (
                    f"{item['broken']} broken ({item['required_broken']} required), "
                    f"{item['moved']} moved, of {item['items_total']} items"
                ),
            }
        )
    checks = data.get("checks", {})
    rows.append(
        {
            "section": "checks",
            "count": checks.get("total", 0),
            "detail": f"counted {checks.get('counted', 0)}, failing {checks.get('failing', 0)}",
        }
    )
    for item in data.get("incidents", {}).get("items", []):
        rows.append(
            {
                "section": "incidents",
                "date": item["started_at"],
                "count": item["checks_discarded"],
                "detail": f"{item['reason']} (ended {item['ended_at'] or 'not yet'})",
            }
        )
    return rows


def render_csv(report: LinkReport) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in csv_rows(report.data):
        writer.writerow({column: _cell(row.get(column)) for column in CSV_COLUMNS})
    return buffer.getvalue()


def md_escape(text: Any) -> str:
    """Text that Markdown shows literally (no links, emphasis or HTML from a page title)."""
    out = str(text if text is not None else "")
    out = out.replace("\r", " ").replace("\n", " ")
    return "".join("\\" + ch if ch in MARKDOWN_SPECIAL else ch for ch in out)


def md_url(url: str) -> str:
    # Inside an autolink <...> only these would end or break it.
    return url.replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")


def md_link(title: str, url: str) -> str:
    return f"[{md_escape(title)}](<{md_url(url)}>)"


def short_date(value: str | None) -> str:
    if not value:
        return "-"
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")


def _code(status_code: int | None) -> str:
    return f" {status_code}" if status_code else ""


def _more(section: dict[str, Any]) -> list[str]:
    if not section.get("items"):
        return ["None."]
    hidden = section.get("total", 0) - len(section["items"])
    return [f"- … and {hidden} more"] if hidden > 0 else []


def render_markdown(report: LinkReport) -> str:
    data = report.data
    lines = [
        f"# Link health report: {report.period_start:%Y-%m-%d} to {report.period_end:%Y-%m-%d}",
        "",
        md_escape(data.get("summary", "")),
        "",
        "## Totals",
        "",
        "| State | Resources | Change |",
        "| --- | ---: | ---: |",
    ]
    for state in data.get("totals", {}).get("states", []):
        change = "n/a" if state["change"] is None else f"{state['change']:+d}"
        lines.append(f"| {md_escape(state['label'])} | {state['count']} | {change} |")
    broken = data.get("newly_broken", {})
    lines += ["", f"## {SECTION_TITLES['newly_broken']} ({broken.get('total', 0)})", ""]
    for item in broken.get("items", []):
        evidence = ", ".join(
            f"{short_date(e['checked_at'])} {e['outcome']}"
            + (f" {e['status_code']}" if e["status_code"] else "")
            for e in item["evidence"]
        )
        lines.append(
            f"- {md_link(item['title'], item['url'])}: "
            f"broken since {short_date(item['broken_at'])}, "
            f"{item['consecutive_failures']} consecutive failures now "
            f"(since {short_date(item['first_failure_at'])}), "
            f"last {md_escape(item['last_outcome'] or '-')}{_code(item['last_status_code'])}, "
            f"rule {md_escape(item['rule'] or '-')}"
            f"; on {item['published_lists']} published lists; now {item['current_health']}"
            + (f". Recent checks: {md_escape(evidence)}" if evidence else "")
        )
    lines += _more(broken)
    recovered = data.get("recovered", {})
    lines += ["", f"## {SECTION_TITLES['recovered']} ({recovered.get('total', 0)})", ""]
    for item in recovered.get("items", []):
        lines.append(
            f"- {md_link(item['title'], item['url'])}: was {item['was']}, "
            f"recovered {short_date(item['recovered_at'])}"
        )
    lines += _more(recovered)
    moved = data.get("moved", {})
    lines += [
        "",
        f"## {SECTION_TITLES['moved']} ({moved.get('total', 0)}, "
        f"{moved.get('new_in_period', 0)} new)",
        "",
    ]
    for item in moved.get("items", []):
        new = " (new)" if item["new_in_period"] else ""
        lines.append(
            f"- {md_link(item['title'], item['url'])}{new} → <{md_url(item['suggested_url'])}>"
        )
    lines += _more(moved)
    for section in ("unverifiable", "soft_404"):
        part = data.get(section, {})
        lines += ["", f"## {SECTION_TITLES[section]} ({part.get('total', 0)})", ""]
        for item in part.get("items", []):
            lines.append(
                f"- {md_link(item['title'], item['url'])}: {item['current_health']}, last "
                f"{md_escape(item['last_outcome'] or '-')}{_code(item['last_status_code'])}, "
                f"checked {short_date(item['last_checked_at'])}"
            )
        lines += _more(part)
    lines += [
        "",
        f"## {SECTION_TITLES['domains']}",
        "",
        "| Domain | Failing | Broken | Suspect | Unverifiable |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for item in data.get("domains", {}).get("items", []):
        lines.append(
            f"| {md_escape(item['domain'])} | {item['total']} | {item['broken']} | "
            f"{item['suspect']} | {item['unverifiable']} |"
        )
    if not data.get("domains", {}).get("items"):
        lines.append("| none | | | | |")
    lists = data.get("collections", {})
    lines += ["", f"## {SECTION_TITLES['collections']} ({lists.get('total', 0)})", ""]
    if not lists.get("items"):
        lines.append("None.")
    for item in lists.get("items", []):
        lines.append(
            f"- **{md_escape(item['title'])}**: {item['broken']} broken "
            f"({item['required_broken']} required), {item['moved']} moved, "
            f"of {item['items_total']} items"
        )
        for affected in item["affected"]:
            lines.append(
                f"  - {md_link(affected['title'], affected['url'])} "
                f"({affected['health']}, section {md_escape(affected['section'])})"
            )
    checks = data.get("checks", {})
    incidents = data.get("incidents", {})
    lines += [
        "",
        "## Checks and checker-offline incidents",
        "",
        f"{checks.get('total', 0)} checks ran ({checks.get('counted', 0)} counted, "
        f"{checks.get('failing', 0)} failing); {incidents.get('total', 0)} incidents.",
    ]
    for item in incidents.get("items", []):
        lines.append(
            f"- {short_date(item['started_at'])} to {short_date(item['ended_at'])}: "
            f"{md_escape(item['reason'])} ({item['checks_discarded']} checks discarded)"
        )
    return "\n".join(lines) + "\n"


RENDERERS = {"json": render_json, "csv": render_csv, "md": render_markdown}
CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}


def render(report: LinkReport, fmt: str) -> str:
    """The report in `fmt` (one of FORMATS); ValueError for anything else."""
    try:
        return RENDERERS[fmt](report)
    except KeyError:
        raise ValueError(
            f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}"
        ) from None


# --- Chart -----------------------------------------------------------------------------------

CHART_WIDTH = 720
CHART_LEFT = 56
CHART_RIGHT = 150
# Two panels: the healthy share on top, the problem states below on their own scale. On one
# linear scale 90,000 healthy links flatten 900 broken ones into the axis.
SHARE_PANEL = {"top": 24, "height": 70}
PROBLEM_PANEL = {"top": 126, "height": 150}
CHART_HEIGHT = 310
PROBLEM_STATES = ["broken", "suspect", "moved", "unverifiable"]
LEGEND_STATES = ["healthy", "unknown", *PROBLEM_STATES]


def _polyline(points: list[tuple[float, float]], colour: str) -> str:
    if len(points) == 1:
        x, y = points[0]
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>'
    joined = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{joined}"/>'


def _axes(panel: dict[str, int], plot_w: int, labels: list[tuple[float, str]]) -> list[str]:
    top, height = panel["top"], panel["height"]
    bottom = top + height
    parts = [
        f'<line x1="{CHART_LEFT}" y1="{bottom}" x2="{CHART_LEFT + plot_w}" y2="{bottom}" '
        'stroke="#555"/>',
        f'<line x1="{CHART_LEFT}" y1="{top}" x2="{CHART_LEFT}" y2="{bottom}" stroke="#555"/>',
    ]
    for fraction, text in labels:
        y = bottom - height * fraction
        label = xml_escape(text)
        parts.append(f'<text x="{CHART_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    return parts


def render_health_chart(history: list[dict[str, Any]], *, title: str = "Health over time") -> str:
    """A self-contained SVG chart of health over time (no script, no CDN, no external font).

    Top panel: the share of checked resources that are healthy. Bottom panel: broken,
    suspect, moved and unverifiable resources on their own scale. Every piece of text is
    XML-escaped; numbers are formatted here. An empty history gives a chart that says so.
    """
    width, height = CHART_WIDTH, CHART_HEIGHT
    plot_w = width - CHART_LEFT - CHART_RIGHT
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{xml_escape(title)}" '
        'font-family="sans-serif" font-size="11">',
        f"<title>{xml_escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    if not history:
        parts.append(
            f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle">'
            "No history yet</text></svg>"
        )
        return "".join(parts)
    n = len(history)

    def x(i: int) -> float:
        return CHART_LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def count(point: dict[str, Any], state: str) -> int:
        return int(point["counts"].get(state, 0))

    # Top panel: healthy as a share of every resource with a known state.
    shares = []
    for point in history:
        known = sum(count(point, s) for s in STATE_COLOURS if s != "unknown")
        shares.append(100.0 * count(point, "healthy") / known if known else 0.0)
    low = min(shares)
    floor = max(0.0, min(90.0, (int(low) // 5) * 5.0))
    span = max(100.0 - floor, 1.0)
    top, panel_h = SHARE_PANEL["top"], SHARE_PANEL["height"]
    parts.append(f'<text x="{CHART_LEFT}" y="{top - 8}">Healthy, % of checked resources</text>')
    parts += _axes(SHARE_PANEL, plot_w, [(0, f"{floor:.0f}%"), (1, "100%")])
    parts.append(
        _polyline(
            [(x(i), top + panel_h - panel_h * (v - floor) / span) for i, v in enumerate(shares)],
            STATE_COLOURS["healthy"],
        )
    )
    # Bottom panel: the states a curator acts on.
    peak = max(max(count(p, s) for s in PROBLEM_STATES) for p in history)
    peak = max(peak, 1)
    top, panel_h = PROBLEM_PANEL["top"], PROBLEM_PANEL["height"]
    parts.append(f'<text x="{CHART_LEFT}" y="{top - 8}">Resources needing attention</text>')
    parts += _axes(PROBLEM_PANEL, plot_w, [(0, "0"), (0.5, f"{round(peak / 2)}"), (1, f"{peak}")])
    for state in PROBLEM_STATES:
        parts.append(
            _polyline(
                [
                    (x(i), top + panel_h - panel_h * count(p, state) / peak)
                    for i, p in enumerate(history)
                ],
                STATE_COLOURS[state],
            )
        )
    base = top + panel_h + 16
    first_day = xml_escape(str(history[0]["at"])[:10])
    last_day = xml_escape(str(history[-1]["at"])[:10])
    parts.append(f'<text x="{x(0):.1f}" y="{base}" text-anchor="start">{first_day}</text>')
    parts.append(f'<text x="{x(n - 1):.1f}" y="{base}" text-anchor="end">{last_day}</text>')
    # Legend with the latest count of every state.
    lx = CHART_LEFT + plot_w + 16
    for index, state in enumerate(LEGEND_STATES):
        ly = SHARE_PANEL["top"] + 6 + index * 20
        latest = count(history[-1], state)
        parts.append(
            f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{STATE_COLOURS[state]}"/>'
            f'<text x="{lx + 14}" y="{ly}">{xml_escape(state)} ({latest:,})</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
