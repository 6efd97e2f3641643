"""Text and JSON output of the lineage commands (`tfxp runs|artifacts|show|lineage|diff`)."""

from __future__ import annotations

import pathlib
import shutil
import subprocess

from pipeline import lineage as L


def dispatch(args) -> int:
    metadata = L.Metadata(_connect(args))
    handler = {"runs": _runs, "artifacts": _artifacts, "show": _show, "lineage": _lineage,
               "diff": _diff}[args.command]
    return handler(metadata, args)


def _connect(args):
    if args.mysql:
        return L.connect(mysql=args.mysql, mysql_user=args.mysql_user)
    if args.metadata:
        return L.connect(sqlite=pathlib.Path(args.metadata))
    from pipeline.config import load_config

    return L.connect(sqlite=load_config(args.config).metadata_path)


def _runs(metadata: L.Metadata, args) -> int:
    runs = metadata.runs()
    if args.json:
        print(L.as_json(runs))
        return 0
    for run in runs:
        states = ", ".join(f"{n}={s}" for n, s in run.nodes.items() if not n.endswith("resolver"))
        pushed = f"pushed {run.pushed_version}" if run.pushed_version else "nothing pushed"
        span = f"span {run.provenance['span']}  " if "span" in run.provenance else ""
        allowed = run.provenance.get("allowed", "[]")
        allowed = f"  allowed {allowed}" if allowed != "[]" else ""
        print(f"{run.run}  {run.pipeline}  {span}started {run.started}  {run.seconds:.1f} s  "
              f"{pushed}{allowed}")
        print(f"    {states}")
    return 0


def _artifacts(metadata: L.Metadata, args) -> int:
    artifacts = metadata.artifacts(args.type_name, args.run)
    if args.json:
        print(L.as_json(artifacts))
        return 0
    for a in artifacts:
        keys = {k: v for k, v in a.properties.items()
                if k in ("split_names", "span", "blessed", "pushed", "pushed_version")}
        print(f"{a.id:>5}  {a.type:<18} {a.producer or '-':<24} {a.run or '-':<28} {a.created}  "
              f"{a.uri}  {keys if keys else ''}")
    return 0


def _show(metadata: L.Metadata, args) -> int:
    ident = args.id
    view = (metadata.execution(_number(ident[1:])) if ident.startswith("e")
            else metadata.artifact(_number(ident[1:] if ident.startswith("a") else ident)))
    print(L.as_json(view))  # the full record reads best as JSON either way
    return 0


def _lineage(metadata: L.Metadata, args) -> int:
    artifact_id = metadata.pushed_model(args.pushed) if args.pushed else _number(args.id)
    tree = metadata.downstream(artifact_id) if args.downstream else metadata.upstream(artifact_id)
    if args.json:
        print(L.as_json(tree))
    elif args.format == "text":
        print("\n".join(L.tree_lines(tree)))
    else:
        graph = L.dot(tree)
        if args.format == "svg":
            if not shutil.which("dot"):
                raise L.LineageError("--format svg needs Graphviz's `dot` on PATH "
                                     "(apt-get install graphviz); --format dot works without it")
            done = subprocess.run(["dot", "-Tsvg"], input=graph.encode(), capture_output=True)
            if done.returncode:
                raise L.LineageError(f"Graphviz failed: {done.stderr.decode().strip()[:200]}")
            _emit(done.stdout, args.output)
        else:
            _emit(graph.encode(), args.output)
    return 0


def _emit(data: bytes, output: str | None) -> None:
    if not output:
        print(data.decode(), end="")
        return
    try:
        pathlib.Path(output).write_bytes(data)
    except OSError as err:
        raise L.LineageError(f"{output}: cannot write: {err.strerror}") from None


def _diff(metadata: L.Metadata, args) -> int:
    diff = metadata.diff(args.run_a, args.run_b)
    if args.json:
        print(L.as_json(diff))
        return 0
    a, b = diff["runs"]
    print(f"A = {a}\nB = {b}")
    print("config:" + ("" if diff["config"] else " unchanged"))
    for key, (va, vb) in diff["config"].items():
        print(f"  {key}: {va!r} -> {vb!r}")
    print("inputs and code:" + ("" if diff["inputs"] else " unchanged"))
    for key, (va, vb) in diff["inputs"].items():
        print(f"  {key}: {va} -> {vb}")
    print("split sizes: " + ", ".join(f"{s} {va} -> {vb}" for s, (va, vb) in diff["split_sizes"].items()))
    print("schema:" + (" unchanged" if not diff["schema_diff"] else "\n" + diff["schema_diff"]))
    print("steps: " + ", ".join(f"{n} {sa}/{sb}" for n, (sa, sb) in diff["nodes"].items()
                                if not n.endswith("resolver")))
    print("eval metrics (A, B, B-A):")
    for slice_name, rows in diff["metrics"].items():
        shown = [f"{m} {_fmt(va)} {_fmt(vb)} {_fmt(d, sign=True)}" for m, (va, vb, d) in rows.items()
                 if m in ("auc", "binary_accuracy", "precision", "recall", "example_count")]
        if shown:
            print(f"  {slice_name}: " + "; ".join(shown))
    print(f"pushed: {diff['pushed'][0]} -> {diff['pushed'][1]}")
    return 0


def _fmt(value, sign: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.4f}" if sign else f"{value:.4f}"


def _number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise L.LineageError(f"{text!r} is not an id (artifacts: 12 or a12, executions: e7)") from None
