"""The health-over-time chart of a report, as a self-contained SVG.

No script, no CDN, no external font: it is shown inline in the admin and served as a file.
Every piece of text is XML-escaped; numbers are formatted here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape as xml_escape

CHART_WIDTH = 720
CHART_HEIGHT = 310
CHART_LEFT = 56
CHART_RIGHT = 150
PLOT_WIDTH = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
# Two panels: the healthy share on top, the problem states below on their own scale. On one
# linear scale 90,000 healthy links flatten 900 broken ones into the axis.
SHARE_PANEL = {"top": 24, "height": 70}
PROBLEM_PANEL = {"top": 126, "height": 150}
STATE_COLOURS = {
    "unknown": "#9e9e9e",
    "healthy": "#2e7d32",
    "moved": "#1565c0",
    "suspect": "#f9a825",
    "broken": "#c62828",
    "unverifiable": "#6a1b9a",
}
PROBLEM_STATES = ["broken", "suspect", "moved", "unverifiable"]
LEGEND_STATES = ["healthy", "unknown", *PROBLEM_STATES]

History = list[dict[str, Any]]
XPosition = Callable[[int], float]


def _count(point: dict[str, Any], state: str) -> int:
    return int(point["counts"].get(state, 0))


def _x_positions(n: int) -> XPosition:
    """The x of the i-th of n points: spread across the plot, or centred when alone."""

    def x(i: int) -> float:
        return CHART_LEFT + (PLOT_WIDTH * i / (n - 1) if n > 1 else PLOT_WIDTH / 2)

    return x


def _polyline(points: list[tuple[float, float]], colour: str) -> str:
    if len(points) == 1:
        x, y = points[0]
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>'
    joined = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{joined}"/>'


def _axes(panel: dict[str, int], labels: list[tuple[float, str]]) -> list[str]:
    top, height = panel["top"], panel["height"]
    bottom = top + height
    parts = [
        f'<line x1="{CHART_LEFT}" y1="{bottom}" x2="{CHART_LEFT + PLOT_WIDTH}" y2="{bottom}" '
        'stroke="#555"/>',
        f'<line x1="{CHART_LEFT}" y1="{top}" x2="{CHART_LEFT}" y2="{bottom}" stroke="#555"/>',
    ]
    for fraction, text in labels:
        y = bottom - height * fraction
        label = xml_escape(text)
        parts.append(f'<text x="{CHART_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    return parts


def _share_panel(history: History, x: XPosition) -> list[str]:
    """Top panel: healthy as a share of every resource with a known state."""
    shares = []
    for point in history:
        known = sum(_count(point, s) for s in STATE_COLOURS if s != "unknown")
        shares.append(100.0 * _count(point, "healthy") / known if known else 0.0)
    floor = max(0.0, min(90.0, (int(min(shares)) // 5) * 5.0))
    span = max(100.0 - floor, 1.0)
    top, height = SHARE_PANEL["top"], SHARE_PANEL["height"]
    line = [(x(i), top + height - height * (v - floor) / span) for i, v in enumerate(shares)]
    return [
        f'<text x="{CHART_LEFT}" y="{top - 8}">Healthy, % of checked resources</text>',
        *_axes(SHARE_PANEL, [(0, f"{floor:.0f}%"), (1, "100%")]),
        _polyline(line, STATE_COLOURS["healthy"]),
    ]


def _problem_panel(history: History, x: XPosition) -> list[str]:
    """Bottom panel: the states a curator acts on, on their own scale."""
    peak = max(max(max(_count(p, s) for s in PROBLEM_STATES) for p in history), 1)
    top, height = PROBLEM_PANEL["top"], PROBLEM_PANEL["height"]
    parts = [
        f'<text x="{CHART_LEFT}" y="{top - 8}">Resources needing attention</text>',
        *_axes(PROBLEM_PANEL, [(0, "0"), (0.5, f"{round(peak / 2)}"), (1, f"{peak}")]),
    ]
    for state in PROBLEM_STATES:
        line = [
            (x(i), top + height - height * _count(p, state) / peak) for i, p in enumerate(history)
        ]
        parts.append(_polyline(line, STATE_COLOURS[state]))
    base = top + height + 16
    first_day = xml_escape(str(history[0]["at"])[:10])
    last_day = xml_escape(str(history[-1]["at"])[:10])
    parts.append(f'<text x="{x(0):.1f}" y="{base}" text-anchor="start">{first_day}</text>')
    parts.append(
        f'<text x="{x(len(history) - 1):.1f}" y="{base}" text-anchor="end">{last_day}</text>'
    )
    return parts


def _legend(latest: dict[str, Any]) -> list[str]:
    """Every state's colour with its latest count."""
    lx = CHART_LEFT + PLOT_WIDTH + 16
    parts = []
    for index, state in enumerate(LEGEND_STATES):
        ly = SHARE_PANEL["top"] + 6 + index * 20
        parts.append(
            f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{STATE_COLOURS[state]}"/>'
            f'<text x="{lx + 14}" y="{ly}">{xml_escape(state)} ({_count(latest, state):,})</text>'
        )
    return parts


def render_health_chart(history: History, *, title: str = "Health over time") -> str:
    """A self-contained SVG chart of health over time (no script, no CDN, no external font).

    Top panel: the share of checked resources that are healthy. Bottom panel: broken,
    suspect, moved and unverifiable resources on their own scale. Every piece of text is
    XML-escaped; numbers are formatted here. An empty history gives a chart that says so.
    """
    width, height = CHART_WIDTH, CHART_HEIGHT
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
    x = _x_positions(len(history))
    parts += _share_panel(history, x)
    parts += _problem_panel(history, x)
    parts += _legend(history[-1])
    parts.append("</svg>")
    return "".join(parts)
