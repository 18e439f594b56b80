"""Template filters for link reports, whose stored data keeps dates as ISO strings."""

from __future__ import annotations

from datetime import datetime

from django import template

from curation.admin import display

register = template.Library()


@register.simple_tag(takes_context=True)
def when(context, value) -> str:
    """A stored time as people read it: in the admin with the exact value on hover and how
    long ago; elsewhere (an email, read later) the absolute time only."""
    if context.get("admin_times"):
        return display.when(value)
    return display.when_text(value)


@register.filter
def isodate(value: str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO timestamp from a stored report as "YYYY-MM-DD HH:MM" (UTC), or "-" for none."""
    if not value:
        return "-"
    try:
        return datetime.fromisoformat(str(value)).strftime(fmt)
    except ValueError:
        return str(value)


@register.filter
def signed(value: int | None) -> str:
    """A change as +3 / -2 / 0, or "n/a" when there was no previous report."""
    if value is None:
        return "n/a"
    return f"{value:+d}"


@register.filter
def http_href(value: str | None) -> str:
    """The URL if it is http(s), else "": a stored address never becomes a javascript: link."""
    url = str(value or "")
    return url if url.lower().startswith(("http://", "https://")) else ""
