"""The image's Dockerfile refers to files that exist and installs from set-up's lock file.

No Docker engine runs here, so the file is read, not built.
"""

from __future__ import annotations

import ast
import re

from tests.conftest import ROOT

DOCKERFILE = ROOT / "kubeflow" / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def test_every_copied_path_exists():
    copies = [args.split()[:-1] for op, args in _instructions() if op == "COPY"]
    assert copies
    for sources in copies:
        for source in sources:
            assert (ROOT / source).exists(), source


def test_the_project_is_installed_with_the_lock_file_make_uses():
    runs = [args for op, args in _instructions() if op == "RUN"]
    installs = [r for r in runs if "pip install" in r]
    assert installs and all("-c requirements.lock" in r for r in installs)
    assert "-c requirements.lock" in (ROOT / "Makefile").read_text()


def test_base_image_is_the_pinned_tfx_version():
    (base,) = [args for op, args in _instructions() if op == "FROM"]
    pinned = re.search(r"^tfx==(\S+)$", (ROOT / "requirements.lock").read_text(), re.M).group(1)
    assert base == f"tensorflow/tfx:{pinned}"


def test_every_package_setup_installs_is_copied():
    """The packages `setup.py` lists (read from the file, not repeated here) and the schemas."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    (packages,) = [
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and node.targets[0].id == "PACKAGES"
    ]
    copied = " ".join(args for op, args in _instructions() if op == "COPY")
    for needed in [f"{package}/" for package in packages] + ["schema/", "setup.py"]:
        assert needed in copied
