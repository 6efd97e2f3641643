"""The pipeline: dataset config, span layout, the one TFX pipeline definition and the local
runner, which returns each run's outcome as a value.

`config` parses a dataset YAML once into frozen objects; `spans` finds a span's files;
`schema` reads the curated schema; `definition` builds the pipeline for any runner's
`Placement`; `local_runner` plans and runs it (`outcome` is what a run ended in); `run_facts`
is what a run records beyond its components.
"""

from components.fingerprint import PROJECT_ROOT

SETUP_FILE = PROJECT_ROOT / "setup.py"  # names this project to remote Beam workers
