"""The building blocks of every page: escaping, tables, bar and line charts as inline SVG, and
the page shell. No script and no link to anything outside the file: a page opens anywhere,
offline, and shows the same."""

from __future__ import annotations

import html
import math
import os
import pathlib
from collections.abc import Sequence

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}"
    "h1{font-size:1.5em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}"
    "table{border-collapse:collapse;margin:.8em 0}td,th{border:1px solid #ccc;padding:.2em .5em}"
    "th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}"
    "td.na{color:#888}tr.bad td{background:#fde2e1}tr.flag td{background:#fff4d6}"
    ".outcome{font-size:1.2em;padding:.6em;border-left:6px solid #888;background:#f7f7f7}"
    ".outcome.good{border-color:#2e7d32}.outcome.bad{border-color:#c62828}"
    ".charts{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-size:.85em}"
)


def esc(value) -> str:
    return html.escape(str(value))


def number(value, digits: int = 4) -> str:
    """A figure as a person reads it: integers whole, undefined values as such."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float) and value.is_integer() and abs(value) >= 100:
        return f"{int(value):,}"  # a count, or a figure this size: no decimals to show
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence], marks: Sequence[str] = ()) -> str:
    """Rows of cells; a number is right-aligned, `None` is "n/a"; `marks[i]` is row i's class
    (`bad`, `flag` or "")."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for index, row in enumerate(rows):
        mark = marks[index] if index < len(marks) else ""
        cells = "".join(_cell(v) for v in row)
        body.append(f"<tr class='{mark}'>{cells}</tr>" if mark else f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _cell(value) -> str:
    if value is None:
        return "<td class=na>n/a</td>"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"<td class=num>{esc(number(value))}</td>"
    return f"<td>{esc(value)}</td>"


_NAMED_COLOURS = {"this span": "#1565c0", "span before": "#ef6c00", "candidate": "#1565c0"}
_OTHER_COLOURS = ["#6a1b9a", "#2e7d32", "#ef6c00"]


def colour(name: str, index: int) -> str:
    """A series' colour: the same name is the same colour on every chart of a page."""
    return _NAMED_COLOURS.get(name, _OTHER_COLOURS[index % len(_OTHER_COLOURS)])


def _legend(names: Sequence[str], x: float, y: float, step_x: float, step_y: float) -> str:
    return "".join(
        f"<text x='{x + step_x * i:.0f}' y='{y + step_y * i:.0f}' font-size='9' "
        f"fill='{colour(name, i)}'>■ {esc(name)}</text>"
        for i, name in enumerate(names)
    )


def bars(title: str, labels: Sequence[str], series: dict[str, Sequence[float]]) -> str:
    """Grouped bars of shares (0..1), one colour per series (e.g. this span and the one
    before): a histogram or a category's top values, as inline SVG."""
    width, height, left, bottom = 320, 150, 30, 30
    count = max(len(labels), 1)
    group = (width - left) / count
    bar = group / (len(series) + 1)
    top = max([v for values in series.values() for v in values] + [1e-9])
    shapes = []
    for s_index, (name, values) in enumerate(series.items()):
        for index, value in enumerate(values):
            h = (height - bottom) * value / top
            x = left + index * group + s_index * bar + bar / 2
            shapes.append(
                f"<rect x='{x:.1f}' y='{height - bottom - h:.1f}' width='{bar:.1f}' "
                f"height='{h:.1f}' fill='{colour(name, s_index)}'><title>{esc(name)} "
                f"{esc(labels[index])}: {value:.1%}</title></rect>"
            )
    ticks = "".join(
        f"<text x='{left + i * group + group / 2:.1f}' y='{height - bottom + 12}' "
        f"font-size='8' text-anchor='middle'>{esc(str(label)[:8])}</text>"
        for i, label in enumerate(labels)
        if count <= 12 or i % max(1, count // 8) == 0
    )
    legend = _legend(list(series), left, height - 4, 110, 0)
    axis = f"<text x='2' y='10' font-size='8'>{top:.0%}</text>"
    return (
        f"<figure><svg role='img' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}'><title>{esc(title)}</title>"
        f"<line x1='{left}' y1='{height - bottom}' x2='{width}' y2='{height - bottom}' "
        f"stroke='#999'/>{''.join(shapes)}{ticks}{legend}{axis}</svg>"
        f"<figcaption>{esc(title)}</figcaption></figure>"
    )


def line_chart(title: str, points: Sequence[tuple[str, float | None]]) -> str:
    """A metric across runs, oldest first; a run without the metric leaves a gap."""
    width, height, pad = 640, 180, 30
    known = [v for _, v in points if v is not None]
    if not known:
        return f"<p>{esc(title)}: no value recorded yet.</p>"
    low, high = min(known), max(known)
    low, high = (low - 0.01, high + 0.01) if high - low < 0.02 else (low, high)
    step = (width - 2 * pad) / max(len(points) - 1, 1)

    def y(value: float) -> float:
        return height - pad - (height - 2 * pad) * (value - low) / (high - low)

    dots, path = [], []
    for index, (label, value) in enumerate(points):
        if value is None:
            continue
        x = pad + index * step
        path.append(f"{'M' if not path else 'L'}{x:.1f},{y(value):.1f}")
        dots.append(
            f"<circle cx='{x:.1f}' cy='{y(value):.1f}' r='3' fill='#1565c0'>"
            f"<title>{esc(label)}: {value:.4f}</title></circle>"
        )
    return (
        f"<figure><svg role='img' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}'><title>{esc(title)}</title>"
        f"<text x='2' y='{pad}' font-size='9'>{high:.3f}</text>"
        f"<text x='2' y='{height - pad}' font-size='9'>{low:.3f}</text>"
        f"<path d='{' '.join(path)}' fill='none' stroke='#1565c0'/>{''.join(dots)}</svg>"
        f"<figcaption>{esc(title)}</figcaption></figure>"
    )


def curve(
    title: str,
    series: dict[str, Sequence[tuple[float, float]]],
    axes: tuple[str, str],
    diagonal: bool = False,
    dots: bool = False,
) -> str:
    """Curves on the unit square (ROC, precision-recall, calibration), one colour per series;
    `diagonal` draws y = x, the chance line or perfect calibration; `dots` marks each point
    (few points, each one a measurement)."""
    size, pad = 220, 34
    span = size - 2 * pad

    def at(x: float, y: float) -> str:
        x, y = min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)
        return f"{pad + span * x:.1f},{size - pad - span * y:.1f}"

    lines = []
    for index, (name, points) in enumerate(series.items()):
        if points:
            path = " ".join(
                f"{'M' if i == 0 else 'L'}{at(x, y)}" for i, (x, y) in enumerate(points)
            )
            lines.append(
                f"<path d='{path}' fill='none' stroke='{colour(name, index)}' stroke-width='1.5'>"
                f"<title>{esc(name)}</title></path>"
            )
        for x, y in points if dots else []:
            cx, cy = at(x, y).split(",")
            lines.append(
                f"<circle cx='{cx}' cy='{cy}' r='2.5' fill='{colour(name, index)}'>"
                f"<title>{esc(name)}: {x:.3f}, {y:.3f}</title></circle>"
            )
    reference = (
        f"<path d='M{at(0, 0)} L{at(1, 1)}' stroke='#bbb' stroke-dasharray='3 3'/>"
        if diagonal
        else ""
    )
    frame = (
        f"<rect x='{pad}' y='{pad}' width='{span}' height='{span}' fill='none' stroke='#999'/>"
        f"<text x='{pad}' y='{size - 8}' font-size='9'>{esc(axes[0])} (0 to 1)</text>"
        f"<text x='4' y='{pad - 8}' font-size='9'>{esc(axes[1])} (0 to 1)</text>"
    )
    legend = _legend(list(series), pad + 4, pad + 12, 0, 11)
    return (
        f"<figure><svg role='img' width='{size}' height='{size}' viewBox='0 0 {size} {size}'>"
        f"<title>{esc(title)}</title>{frame}{reference}{''.join(lines)}{legend}</svg>"
        f"<figcaption>{esc(title)}</figcaption></figure>"
    )


def page(title: str, body: Sequence[str]) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
        + "".join(body)
        + "</body></html>"
    )


def write(path: pathlib.Path, text: str) -> pathlib.Path:
    """Whole or not at all: written beside, then renamed over."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return path
