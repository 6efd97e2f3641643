"""The monitor's page: one self-contained HTML file (no script, no network) with the findings
and every measured figure, as plain tables until the reports issue gives it charts."""

from __future__ import annotations

import pathlib

from reports import html as H


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
        f"<h1>{H.esc(report.name)}: monitoring {H.esc(report.since)} to {H.esc(report.until)}</h1>",
        f"<p class=verdict>{H.esc(verdict)}; {report.predictions} predictions, windows of "
        f"{report.window_seconds} s.</p>",
        "<h2>Findings</h2>",
        H.table(["window", "version", "role", "area", "subject", "kind", "why"], alerts),
        "<h2>System</h2>",
        H.table(["window", "requests", "failed", "latency p50 ms", "latency p99 ms"], system),
        "<h2>Inputs and outputs</h2>",
        H.table(
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
        H.table(
            ["version", "role", "labels", "positives", "auc", "precision", "recall", "judged"],
            quality,
        ),
        "<h2>Skew and drift, every feature</h2>",
        H.table(
            ["window", "version", "role", "check", "feature", "metric", "value", "threshold", ""],
            measured,
        ),
    ]
    return H.page(f"{report.name} monitoring", sections)


def write_page(path: pathlib.Path, report) -> pathlib.Path:
    """Whole or not at all, as every page (`reports.html.write`)."""
    return H.write(path, render(report))
