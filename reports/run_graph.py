"""The lineage of one run as a picture: every artifact its steps read or wrote (spans with the
gate's verdict, schema, statistics, Transform's outputs, the model, the evaluation and blessing,
the pushed version, the baseline), an arrow from each input to what was made of it, in layers
from the data down to the push. Artifacts made by an earlier run (the window's older spans,
the baseline model) are drawn dashed. Inline SVG, laid out here: no Graphviz at run time."""

from __future__ import annotations

import dataclasses

from metadata import names
from metadata.lineage import gate_verdict
from metadata.reader import MetadataReader, RunView
from reports import html as H

BOX_WIDTH, BOX_HEIGHT, COLUMN, ROW = 170, 38, 185, 64  # a detail of 30 characters fits


@dataclasses.dataclass
class _Node:
    artifact_id: int
    title: str
    detail: str
    earlier: bool  # made by another run
    layer: int = 0
    x: float = 0.0


def run_graph(run: RunView, reader: MetadataReader, baseline: str | None = None) -> str:
    """`baseline`: the baseline model's name as the page gives it ("version N")."""
    nodes, edges = _graph(run, reader, baseline)
    if not nodes:
        return "<p>No artifact was recorded for this run.</p>"
    _layers(nodes, edges)
    return _svg(run, nodes, edges)


def _graph(
    run: RunView, reader: MetadataReader, baseline: str | None
) -> tuple[dict[int, _Node], set[tuple[int, int]]]:
    """Artifacts as nodes; an edge from each input of a step to each of its outputs."""
    nodes: dict[int, _Node] = {}
    edges: set[tuple[int, int]] = set()
    executions = reader.executions_of_run(run.run)
    after = 1 + max((e.id for e in executions.values()), default=0)  # verdicts as the run left them
    for node, execution in executions.items():
        if names.is_resolver(node):  # what they chose shows as the inputs of the steps
            continue
        view = reader.execution(execution.id)
        inputs = [i for ids in view.inputs.values() for i in ids]
        outputs = [i for ids in view.outputs.values() for i in ids]
        for artifact_id in inputs + outputs:
            if artifact_id not in nodes:
                nodes[artifact_id] = _node(reader, artifact_id, run.run, after)
        baseline_ids = set(view.inputs.get("baseline_model", []))
        for source in inputs:
            if source in baseline_ids:
                nodes[source].detail = f"baseline · {baseline}" if baseline else "baseline"
            for target in outputs:
                edges.add((source, target))
    return nodes, edges


def _node(reader: MetadataReader, artifact_id: int, run: str, before: int) -> _Node:
    artifact = reader.artifact(artifact_id)
    props = artifact.properties
    detail = artifact.producer or ""
    if artifact.type == names.EXAMPLES and names.SPAN in props:
        verdict = gate_verdict(reader, artifact_id, before=before)
        said = f" · {verdict['verdict']}" if verdict else ""
        detail = f"span {props[names.SPAN]}{said}"
    elif artifact.type == names.PUSHED_MODEL and props.get(names.PUSHED_VERSION) is not None:
        detail = f"version {props[names.PUSHED_VERSION]}"
    elif artifact.type == names.MODEL_BLESSING and "blessed" in props:
        detail = "blessed" if props["blessed"] else "not blessed"
    return _Node(artifact_id, artifact.type, detail, earlier=artifact.run != run)


def _layers(nodes: dict[int, _Node], edges: set[tuple[int, int]]) -> None:
    """Each artifact one layer below its deepest input; within a layer, ordered by where its
    inputs are (fewer crossing arrows)."""
    parents: dict[int, list[int]] = {i: [] for i in nodes}
    for source, target in edges:
        parents[target].append(source)
    done: dict[int, int] = {}

    def depth(i: int, path: frozenset = frozenset()) -> int:
        if i not in done:
            above = [p for p in parents[i] if p not in path]  # a cycle would be a bug upstream
            done[i] = 1 + max((depth(p, path | {i}) for p in above), default=-1)
        return done[i]

    for i, node in nodes.items():
        node.layer = depth(i)
    rows: dict[int, list[_Node]] = {}
    for node in sorted(nodes.values(), key=lambda n: (n.title, n.detail, n.artifact_id)):
        rows.setdefault(node.layer, []).append(node)

    def centre(node: _Node) -> float:  # where its inputs are, in the rows already placed
        xs = [nodes[p].x for p in parents[node.artifact_id]]
        return sum(xs) / len(xs) if xs else 0.0

    for layer in sorted(rows):
        for index, node in enumerate(sorted(rows[layer], key=centre)):
            node.x = 10 + index * COLUMN


def _svg(run: RunView, nodes: dict[int, _Node], edges: set[tuple[int, int]]) -> str:
    def top(node: _Node) -> float:
        return 10 + node.layer * ROW

    arrows = [
        f"<line x1='{nodes[s].x + BOX_WIDTH / 2:.0f}' y1='{top(nodes[s]) + BOX_HEIGHT:.0f}' "
        f"x2='{nodes[t].x + BOX_WIDTH / 2:.0f}' y2='{top(nodes[t]):.0f}' stroke='#999' "
        "marker-end='url(#arrow)'/>"
        for s, t in sorted(edges)
    ]
    boxes = []
    for node in sorted(nodes.values(), key=lambda n: n.artifact_id):
        y = top(node)
        dash = " stroke-dasharray='4 3'" if node.earlier else ""
        fill = "#ffcdd2" if "stopped" in node.detail or node.detail == "not blessed" else "#fff"
        boxes.append(
            f"<g><title>artifact {node.artifact_id}: {H.esc(node.title)} {H.esc(node.detail)}"
            f"</title><rect x='{node.x:.0f}' y='{y:.0f}' width='{BOX_WIDTH}' "
            f"height='{BOX_HEIGHT}' rx='4' fill='{fill}' stroke='#555'{dash}/>"
            f"<text x='{node.x + 6:.0f}' y='{y + 15:.0f}' font-size='11'>"
            f"{H.esc(node.title[:22])}</text>"
            f"<text x='{node.x + 6:.0f}' y='{y + 30:.0f}' font-size='10' fill='#444'>"
            f"{H.esc(node.detail)}</text></g>"
        )
    width = 20 + max(n.x for n in nodes.values()) + BOX_WIDTH
    height = 20 + (1 + max(n.layer for n in nodes.values())) * ROW
    marker = (
        "<defs><marker id='arrow' viewBox='0 0 8 8' refX='8' refY='4' markerWidth='7' "
        "markerHeight='7' orient='auto'><path d='M0,0 L8,4 L0,8 z' fill='#999'/></marker></defs>"
    )
    return (
        f"<figure id=lineage><svg role='img' width='{width:.0f}' height='{height:.0f}' "
        f"viewBox='0 0 {width:.0f} {height:.0f}'><title>lineage of run {H.esc(run.run)}</title>"
        f"{marker}{''.join(arrows)}{''.join(boxes)}</svg><figcaption>What this run read and "
        "made, from the data down; an arrow runs from each input of a step to what the step "
        "made of it. Dashed: made by an earlier run. Red: stopped or not blessed.</figcaption>"
        "</figure>"
    )
