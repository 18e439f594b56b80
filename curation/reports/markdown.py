"""A stored link report as Markdown, with every piece of stored text escaped.

Page titles come from the web: escaped, they cannot add links, emphasis or HTML to the
document a curator opens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from curation.models import LinkReport

# Escaped wherever they appear; a leading "-", "+" or "1." never occurs because escaped text
# always follows a list marker, a table pipe or a word of ours.
MARKDOWN_SPECIAL = "\\`*_{}[]<>()#!|~"
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

Data = dict[str, Any]


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


def _heading(title: str) -> list[str]:
    return ["", f"## {title}", ""]


def _more(section: Data) -> list[str]:
    if not section.get("items"):
        return ["None."]
    hidden = section.get("total", 0) - len(section["items"])
    return [f"- … and {hidden} more"] if hidden > 0 else []


def _totals(data: Data) -> list[str]:
    lines = [*_heading("Totals"), "| State | Resources | Change |", "| --- | ---: | ---: |"]
    for state in data.get("totals", {}).get("states", []):
        change = "n/a" if state["change"] is None else f"{state['change']:+d}"
        lines.append(f"| {md_escape(state['label'])} | {state['count']} | {change} |")
    return lines


def _broken_line(item: Data) -> str:
    evidence = ", ".join(
        f"{short_date(e['checked_at'])} {e['outcome']}" + _code(e["status_code"])
        for e in item["evidence"]
    )
    return (
        f"- {md_link(item['title'], item['url'])}: "
        f"broken since {short_date(item['broken_at'])}, "
        f"{item['consecutive_failures']} consecutive failures now "
        f"(since {short_date(item['first_failure_at'])}), "
        f"last {md_escape(item['last_outcome'] or '-')}{_code(item['last_status_code'])}, "
        f"rule {md_escape(item['rule'] or '-')}"
        f"; on {item['published_lists']} published lists; now {item['current_health']}"
        + (f". Recent checks: {md_escape(evidence)}" if evidence else "")
        + _archived_copy(item)
    )


def _archived_copy(item: Data) -> str:
    url = item.get("archived_url")
    if not url:
        return ""
    when = item.get("archived_at")
    captured = f"captured {short_date(when)}" if when else "unverified address"
    return f". Archived copy: {md_link(captured, url)}"


def _newly_broken(data: Data) -> list[str]:
    broken = data.get("newly_broken", {})
    lines = _heading(f"{SECTION_TITLES['newly_broken']} ({broken.get('total', 0)})")
    lines += [_broken_line(item) for item in broken.get("items", [])]
    return lines + _more(broken)


def _recovered(data: Data) -> list[str]:
    recovered = data.get("recovered", {})
    lines = _heading(f"{SECTION_TITLES['recovered']} ({recovered.get('total', 0)})")
    for item in recovered.get("items", []):
        lines.append(
            f"- {md_link(item['title'], item['url'])}: was {item['was']}, "
            f"recovered {short_date(item['recovered_at'])}"
        )
    return lines + _more(recovered)


def _moved(data: Data) -> list[str]:
    moved = data.get("moved", {})
    lines = _heading(
        f"{SECTION_TITLES['moved']} ({moved.get('total', 0)}, {moved.get('new_in_period', 0)} new)"
    )
    for item in moved.get("items", []):
        new = " (new)" if item["new_in_period"] else ""
        lines.append(
            f"- {md_link(item['title'], item['url'])}{new} → <{md_url(item['suggested_url'])}>"
        )
    return lines + _more(moved)


def _standing(data: Data) -> list[str]:
    lines: list[str] = []
    for section in ("unverifiable", "soft_404"):
        part = data.get(section, {})
        lines += _heading(f"{SECTION_TITLES[section]} ({part.get('total', 0)})")
        for item in part.get("items", []):
            lines.append(
                f"- {md_link(item['title'], item['url'])}: {item['current_health']}, last "
                f"{md_escape(item['last_outcome'] or '-')}{_code(item['last_status_code'])}, "
                f"checked {short_date(item['last_checked_at'])}"
            )
        lines += _more(part)
    return lines


def _domains(data: Data) -> list[str]:
    lines = [
        *_heading(SECTION_TITLES["domains"]),
        "| Domain | Failing | Broken | Suspect | Unverifiable |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    items = data.get("domains", {}).get("items", [])
    for item in items:
        lines.append(
            f"| {md_escape(item['domain'])} | {item['total']} | {item['broken']} | "
            f"{item['suspect']} | {item['unverifiable']} |"
        )
    if not items:
        lines.append("| none | | | | |")
    return lines


def _collections(data: Data) -> list[str]:
    lists = data.get("collections", {})
    lines = _heading(f"{SECTION_TITLES['collections']} ({lists.get('total', 0)})")
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
    return lines


def _checker(data: Data) -> list[str]:
    checks = data.get("checks", {})
    incidents = data.get("incidents", {})
    counts = f"{checks.get('counted', 0)} counted, {checks.get('failing', 0)} failing"
    # Reports from before check errors were counted lack the key: they say nothing about them.
    if "check_errors" in checks:
        errors = checks["check_errors"]
        counts += f", {errors} check error{'s' if errors != 1 else ''}"
    lines = [
        *_heading("Checks and checker-offline incidents"),
        f"{checks.get('total', 0)} checks ran ({counts}); {incidents.get('total', 0)} incidents.",
    ]
    for item in incidents.get("items", []):
        lines.append(
            f"- {short_date(item['started_at'])} to {short_date(item['ended_at'])}: "
            f"{md_escape(item['reason'])} ({item['checks_discarded']} checks discarded)"
        )
    return lines


def _webhooks(data: Data) -> list[str]:
    """Shown only when an endpoint is disabled (reports from before webhooks lack the key)."""
    hooks = data.get("webhooks") or {}
    if not hooks.get("total"):
        return []
    lines = _heading(f"Disabled webhook endpoints ({hooks['total']})")
    for item in hooks.get("items", []):
        owner = f" (owner {md_escape(item['owner'])})" if item["owner"] else ""
        lines.append(
            f"- {md_escape(item['url'])}{owner}: disabled {short_date(item['disabled_at'])}, "
            f"{md_escape(item['reason'])}. Re-enable it in the admin once it answers again."
        )
    return lines


def _learners_and_freshness(data: Data) -> list[str]:
    """Open problem reports of the period, by resource; resources that need review. Reports
    from before these sections lack the keys and show nothing of them."""
    lines: list[str] = []
    if "problem_reports" in data:
        part = data["problem_reports"]
        lines += _heading(
            f"Open problem reports from learners ({part['total_reports']} on {part['total']} "
            "resources)"
        )
        for item in part["items"]:
            kinds = ", ".join(f"{n} {kind}" for kind, n in item["kinds"].items())
            lines.append(
                f"- {md_link(item['title'], item['url'])}: {item['count']} ({md_escape(kinds)}), "
                f"latest {short_date(item['latest_at'])}; now {item['current_health']}"
            )
        lines += _more(part)
    if "needs_review" in data:
        part = data["needs_review"]
        lines += _heading(f"Needs review ({part['total']})")
        for item in part["items"]:
            reasons = md_escape("; ".join(item["reasons"]))
            lines.append(f"- {md_link(item['title'], item['url'])}: {reasons}")
        lines += _more(part)
    return lines


SECTIONS = (
    _totals, _newly_broken, _recovered, _moved, _standing, _domains, _collections, _checker,
    _webhooks, _learners_and_freshness,
)  # fmt: skip


def render_markdown(report: LinkReport) -> str:
    data = report.data
    lines = [
        f"# Link health report: {report.period_start:%Y-%m-%d} to {report.period_end:%Y-%m-%d}",
        "",
        md_escape(data.get("summary", "")),
    ]
    for section in SECTIONS:
        lines += section(data)
    return "\n".join(lines) + "\n"
