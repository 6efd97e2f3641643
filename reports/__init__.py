"""Pages a person looks at: one self-contained HTML file per run (`run_report`) and the run
history (`index`), built from what ML Metadata and the run's artifacts hold, with inline CSS
and SVG only (`html`): no script, no network. Above `pipeline/`, below `monitoring/` and `cli/`.
"""
