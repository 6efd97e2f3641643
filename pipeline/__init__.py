"""tfxp pipeline: definition, configuration, runners and the tfxp command line."""

import pathlib

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
SETUP_FILE = PROJECT_ROOT / "setup.py"
