"""Inline SVG charts with axes, tick labels, units and a legend (no script, no library, no CDN).

Every mark carries data-* attributes (series, x, value) so tests and tools read the numbers back.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

PALETTE = ("#2563eb", "#b91c1c", "#ea580c", "#ca8a04", "#0f766e", "#7c3aed", "#db2777", "#4b5563")
SEVERITY_COLOURS = {"P1": "#b91c1c", "P2": "#ea580c", "P3": "#ca8a04", "P4": "#2563eb"}
_W, _H, _LEFT, _BOTTOM, _TOP, _RIGHT = 640, 240, 56, 44, 12, 16


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 2.5, 5 x 10^n)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _fmt(value: float) -> str:
    return f"{value:g}" if value < 1e4 else f"{value:,.0f}"


def _axes(top: float, unit: str, x_labels: Sequence[str], x_title: str, slot: float) -> list[str]:
    plot_h = _H - _TOP - _BOTTOM
    parts = [
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_H - _BOTTOM}" stroke="#555"/>',
        f'<line x1="{_LEFT}" y1="{_H - _BOTTOM}" x2="{_W - _RIGHT}" y2="{_H - _BOTTOM}" stroke="#555"/>',
    ]
    for i in range(5):
        value = top * i / 4
        y = _H - _BOTTOM - plot_h * i / 4
        parts.append(
            f'<line x1="{_LEFT - 4}" y1="{y:.1f}" x2="{_W - _RIGHT}" y2="{y:.1f}" stroke="#eee"/>'
            f'<text class="tick" x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_e(_fmt(value))}</text>'
        )
    parts.append(
        f'<text class="axis-title" x="12" y="{_TOP + plot_h / 2:.0f}" transform="rotate(-90 12 '
        f'{_TOP + plot_h / 2:.0f})" text-anchor="middle">{_e(unit)}</text>'
    )
    every = max(1, math.ceil(len(x_labels) / 12))
    for i, label in enumerate(x_labels):
        if i % every == 0:
            x = _LEFT + slot * (i + 0.5)
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{_H - _BOTTOM + 16}" text-anchor="middle">{_e(label)}</text>'
            )
    parts.append(
        f'<text class="axis-title" x="{_LEFT + (_W - _LEFT - _RIGHT) / 2:.0f}" y="{_H - 6}" '
        f'text-anchor="middle">{_e(x_title)}</text>'
    )
    return parts


def legend(items: Sequence[tuple[str, str]]) -> str:
    """An HTML legend: (label, colour) swatches."""
    spans = "".join(
        f'<span class="key"><span class="swatch" style="background:{c}"></span>{_e(label)}</span>' for label, c in items
    )
    return f'<div class="legend">{spans}</div>'


def line_chart(
    chart_id: str,
    x_labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    unit: str,
    x_title: str,
    colours: dict[str, str] | None = None,
) -> str:
    """Lines over categorical x (periods); gaps where a value is None; y axis from 0 with `unit`."""
    if not x_labels:
        return f'<p id="{_e(chart_id)}" class="empty">No data for this period.</p>'
    values = [v for s in series.values() for v in s if v is not None]
    top = nice_max(max(values, default=0.0))
    slot = (_W - _LEFT - _RIGHT) / len(x_labels)
    plot_h = _H - _TOP - _BOTTOM
    colours = colours or {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(series)}
    parts = _axes(top, unit, x_labels, x_title, slot)
    for name, points in series.items():
        colour = colours[name]
        coords = [(i, v) for i, v in enumerate(points) if v is not None]
        path, previous = [], None
        for i, v in coords:
            x, y = _LEFT + slot * (i + 0.5), _H - _BOTTOM - plot_h * v / top
            path.append(f"{'L' if previous is not None and previous == i - 1 else 'M'}{x:.1f},{y:.1f}")
            previous = i
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}" data-series="{_e(name)}" '
                f'data-x="{_e(x_labels[i])}" data-value="{v:g}"><title>{_e(name)} {_e(x_labels[i])}: '
                f"{v:g} {_e(unit)}</title></circle>"
            )
        if path:
            parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="2"/>')
    svg = (
        f'<svg id="{_e(chart_id)}" class="chart" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" role="img">'
        + "".join(parts)
        + "</svg>"
    )
    return svg + legend([(name, colours[name]) for name in series])


def stacked_bars(
    chart_id: str,
    x_labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    unit: str,
    x_title: str,
    colours: dict[str, str] | None = None,
) -> str:
    """Stacked vertical bars per x label (e.g. incidents per month by severity)."""
    if not x_labels:
        return f'<p id="{_e(chart_id)}" class="empty">No data for this period.</p>'
    totals = [sum(s[i] for s in series.values()) for i in range(len(x_labels))]
    top = nice_max(max(totals, default=0.0))
    slot = (_W - _LEFT - _RIGHT) / len(x_labels)
    plot_h = _H - _TOP - _BOTTOM
    colours = colours or {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(series)}
    parts = _axes(top, unit, x_labels, x_title, slot)
    width = max(2.0, slot * 0.7)
    for i, label in enumerate(x_labels):
        y = float(_H - _BOTTOM)
        for name, values in series.items():
            value = values[i]
            if not value:
                continue
            h = plot_h * value / top
            y -= h
            parts.append(
                f'<rect x="{_LEFT + slot * i + (slot - width) / 2:.1f}" y="{y:.1f}" width="{width:.1f}" '
                f'height="{h:.1f}" fill="{colours[name]}" data-series="{_e(name)}" data-x="{_e(label)}" '
                f'data-value="{value:g}"><title>{_e(name)} {_e(label)}: {value:g} {_e(unit)}</title></rect>'
            )
    svg = (
        f'<svg id="{_e(chart_id)}" class="chart" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" role="img">'
        + "".join(parts)
        + "</svg>"
    )
    return svg + legend([(name, colours[name]) for name in series])


def hbars(
    chart_id: str,
    items: Sequence[tuple[str, float | None]],
    *,
    unit: str,
    scale: float | None = None,
    colour: str = "#2563eb",
) -> str:
    """Horizontal bars with the value and unit printed; `scale` is the full-width value (100 for %)."""
    if not items:
        return f'<p id="{_e(chart_id)}" class="empty">Nothing to show.</p>'
    values = [v for _, v in items if v is not None]
    top = scale or nice_max(max(values, default=0.0))
    label_w = 12 + 7 * max(len(label) for label, _ in items)
    rows = []
    for i, (label, value) in enumerate(items):
        y = 8 + i * 24
        width = 0 if value is None else max(2, int(300 * min(value, top) / top))
        text = "-" if value is None else f"{value:g} {unit}"
        rows.append(
            f'<text x="0" y="{y + 13}">{_e(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{width}" height="16" fill="{colour}" data-label="{_e(label)}" '
            f'data-value="{"" if value is None else value}"/>'
            f'<text x="{label_w + 6 + width}" y="{y + 13}">{_e(text)}</text>'
        )
    axis = (
        f'<text class="tick" x="{label_w}" y="{16 + len(items) * 24}">0</text><text class="tick" '
        f'x="{label_w + 300}" y="{16 + len(items) * 24}" text-anchor="end">{_e(_fmt(top))} {_e(unit)}</text>'
    )
    return (
        f'<svg id="{_e(chart_id)}" class="chart" width="{label_w + 400}" height="{22 + len(items) * 24}" '
        f'role="img">{"".join(rows)}{axis}</svg>'
    )
