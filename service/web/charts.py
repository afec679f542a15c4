"""Charts drawn on the server as SVG: no chart library, no CDN, printable, readable without scripts."""
from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup


def bars(items: Sequence[tuple[str, float]], *, maximum: float, unit: str = "分", width: int = 640) -> Markup:
    """Horizontal bars, one per (label, value), longest = maximum."""
    row, label_width, bar_width = 26, 150, width - 150 - 60
    height = row * len(items) + 8
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg" aria-label="各单位得分">']
    for i, (label, value) in enumerate(items):
        y = 4 + i * row
        length = 0 if maximum <= 0 else max(0.0, min(1.0, value / maximum)) * bar_width
        parts.append(f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end" font-size="13">{escape(label)}</text>'
                     f'<rect x="{label_width}" y="{y + 4}" width="{length:.1f}" height="16" rx="2" fill="#b42318">'
                     f'<title>{escape(label)}：{value:g}{unit}</title></rect>'
                     f'<text x="{label_width + length + 6:.1f}" y="{y + 17}" font-size="12">{value:g}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def trend(points: Sequence[tuple[str, float | None]], *, maximum: float, width: int = 640, height: int = 180,
          label: str = "得分") -> Markup:
    """A line through (period label, value) points; None leaves a gap (no figure for that month)."""
    left, bottom, top = 40, 28, 12
    inner_w, inner_h = width - left - 16, height - bottom - top
    step = inner_w / max(1, len(points) - 1)
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(label)}走势">',
             f'<line x1="{left}" y1="{top + inner_h}" x2="{left + inner_w}" y2="{top + inner_h}" stroke="#aab4bf"/>',
             f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="11">{maximum:g}</text>',
             f'<text x="{left - 6}" y="{top + inner_h}" text-anchor="end" font-size="11">0</text>']
    path = []
    for i, (name, value) in enumerate(points):
        x = left + i * step
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" font-size="11">{escape(name)}</text>')
        if value is None:
            continue
        y = top + inner_h - (0 if maximum <= 0 else min(1.0, value / maximum)) * inner_h
        path.append(f"{'M' if not path else 'L'}{x:.1f},{y:.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#b42318"><title>{escape(name)}：{value:g}</title>'
                     f'</circle><text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" font-size="11">{value:g}</text>')
    if path:
        parts.insert(4, f'<path d="{" ".join(path)}" fill="none" stroke="#b42318" stroke-width="2"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
