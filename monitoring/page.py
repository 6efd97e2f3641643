"""The monitor's page: one self-contained HTML file (no script, no network) with the findings
and every measured figure, as plain tables until the reports issue gives it charts."""

from __future__ import annotations

import html
import os
import pathlib


def _cell(value) -> str:
    if value is None:
        return "<td class=na>n/a</td>"
    if isinstance(value, float):
        return f"<td class=num>{value:.4g}</td>"
    if isinstance(value, int):
        return f"<td class=num>{value}</td>"
    return f"<td>{html.escape(str(value))}</td>"


def _table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(report) -> str:
    alerts = [
        [a.window, a.version, a.role, a.area, a.subject, a.kind, a.description]
        for a in report.alerts
    ]
    system = [
        [w.start, w.requests, w.failed, w.latency_p50_ms, w.latency_p99_ms] for w in report.windows
    ]
    group_rows, measured = [], []
    for w in report.windows:
        for g in w.groups:
            missing = ", ".join(f"{k} {v:.1%}" for k, v in sorted(g.missing.items()))
            unseen = ", ".join(
                f"{k}: {', '.join(f'{v} ×{n}' for v, n in sorted(values.items()))}"
                for k, values in sorted(g.unseen.items())
            )
            group_rows.append(
                [
                    w.start,
                    g.version,
                    g.role,
                    g.predictions,
                    "yes" if g.judged else "too few",
                    g.null_outputs,
                    g.score_mean,
                    g.score_shift.value if g.score_shift else None,
                    g.against_live.value if g.against_live else None,
                    missing or "none",
                    unseen or "none",
                ]
            )
            measured += [
                [
                    w.start,
                    g.version,
                    g.role,
                    m.check,
                    m.feature,
                    m.metric,
                    m.value,
                    m.threshold,
                    "above" if m.exceeded else "ok",
                ]
                for m in g.measurements
            ]
    quality = [
        [
            q.version,
            q.role,
            q.quality.labels,
            q.quality.positives,
            q.quality.auc,
            q.quality.precision,
            q.quality.recall,
            "yes" if q.judged else "too few labels",
        ]
        for q in report.quality
    ]
    verdict = f"{len(report.alerts)} finding(s) above threshold" if report.alerts else "no finding"
    sections = [
        f"<h1>{html.escape(report.name)}: monitoring {html.escape(report.since)} to "
        f"{html.escape(report.until)}</h1>",
        f"<p class=verdict>{html.escape(verdict)}; {report.predictions} predictions, windows of "
        f"{report.window_seconds} s.</p>",
        "<h2>Findings</h2>",
        _table(["window", "version", "role", "area", "subject", "kind", "why"], alerts),
        "<h2>System</h2>",
        _table(["window", "requests", "failed", "latency p50 ms", "latency p99 ms"], system),
        "<h2>Inputs and outputs</h2>",
        _table(
            [
                "window",
                "version",
                "role",
                "predictions",
                "judged",
                "null scores",
                "mean score",
                "score drift",
                "against live",
                "missing",
                "unseen categories",
            ],
            group_rows,
        ),
        "<h2>Quality from feedback</h2>",
        _table(
            ["version", "role", "labels", "positives", "auc", "precision", "recall", "judged"],
            quality,
        ),
        "<h2>Skew and drift, every feature</h2>",
        _table(
            ["window", "version", "role", "check", "feature", "metric", "value", "threshold", ""],
            measured,
        ),
    ]
    style = (
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:.2em .5em}td.num{text-align:right}"
        "td.na{color:#888}.verdict{font-weight:bold}"
    )
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>"
        f"{html.escape(report.name)} monitoring</title><style>{style}</style></head><body>"
        + "".join(sections)
        + "</body></html>"
    )


def write_page(path: pathlib.Path, report) -> pathlib.Path:
    """Whole or not at all: written beside, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(render(report), encoding="utf-8")
    os.replace(partial, path)
    return path
