"""The image's Dockerfile: files that exist, only this project and the listed dependency-free
additions installed over TFX's image, and an image that holds everything the tasks import
(kubeflow/image.py).

No image registry is reachable here, so the file is read, not built; the pins of the base image
are TFX's own (kubeflow/base-image.txt), and the few libraries added over it are listed apart
(kubeflow/image-additions.txt).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re

import pytest

from tests.conftest import ROOT

DOCKERFILE = ROOT / "kubeflow" / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")  # continued lines, as Docker reads them
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def test_every_copied_path_exists():
    copies = [args.split()[:-1] for op, args in _instructions() if op == "COPY"]
    assert copies
    for sources in copies:
        for source in sources:
            assert (ROOT / source).exists(), source


def test_only_the_project_and_the_listed_additions_are_installed_and_the_image_checks_itself():
    """No dependency resolution over the base image; the build runs kubeflow/image.py."""
    (install,) = [args for op, args in _instructions() if op == "RUN"]
    assert "pip install --no-cache-dir --no-deps . -r kubeflow/image-additions.txt " in install
    assert install.count("-r ") == 1 and "-c " not in install
    assert install.rstrip().endswith("python -m kubeflow.image")


def test_each_addition_is_the_locked_version_and_brings_no_dependency():
    """--no-deps installs an addition alone: it must need nothing the base image lacks."""
    from kubeflow.image import IMAGE_ADDITIONS, pins_in

    locked = pins_in(ROOT / "requirements.lock")  # the same name==version lines
    additions = pins_in(IMAGE_ADDITIONS)
    assert additions
    for name, specifier in additions.items():
        assert specifier == locked[name]
        assert not importlib.metadata.distribution(name).requires


def test_the_image_holds_everything_the_tasks_import_and_the_project_declares():
    from kubeflow.image import image_pins, missing_from_base

    assert missing_from_base(image_pins()) == []


@pytest.mark.parametrize(("dropped", "module"), [("scikit-learn", "sklearn"), ("isal", "isal")])
def test_a_dependency_the_image_lacks_is_named(dropped, module):
    from kubeflow.image import image_pins, missing_from_base

    pins = image_pins()
    del pins[dropped]
    assert any(f"import {module} " in p and "not in base" in p for p in missing_from_base(pins))


def test_base_image_is_the_pinned_tfx_version():
    (base,) = [args for op, args in _instructions() if op == "FROM"]
    pinned = re.search(r"^tfx==(\S+)$", (ROOT / "requirements.lock").read_text(), re.M).group(1)
    assert base == f"tensorflow/tfx:{pinned}"
    listed = re.search(r"^tfx==(\S+)$", (ROOT / "kubeflow" / "base-image.txt").read_text(), re.M)
    assert listed.group(1) == pinned


def test_every_package_setup_installs_is_copied():
    """The packages `setup.py` lists (read from the file, not repeated here) and the schemas."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    (packages,) = [
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and node.targets[0].id == "PACKAGES"
    ]
    copied = " ".join(args for op, args in _instructions() if op == "COPY")
    for needed in [f"{package}/" for package in packages] + ["schema/", "setup.py", "tfxp.py"]:
        assert needed in copied


def test_the_image_check_imports_every_executor_module_of_the_compiled_spec(tmp_path):
    """TASK_MODULES is the list the image build imports: every executor of ours a compiled
    task names must be on it (TFX's own come with the base image)."""
    import json

    from kubeflow.compile import compile_pipeline
    from kubeflow.image import TASK_MODULES
    from kubeflow.profile import load_profile
    from pipeline.config import load_config
    from tests.conftest import TAXI_CONFIG

    profile = load_profile(ROOT / "kubeflow" / "profiles" / "gcp-example.yaml")
    (spec,) = compile_pipeline(load_config(TAXI_CONFIG, base_dir=ROOT), profile, tmp_path)
    executors = json.loads(spec.read_text())["pipelineSpec"]["deploymentSpec"]["executors"]
    modules = set()
    for executor in executors.values():
        args = executor["container"]["args"]
        class_path = args[args.index("--executor_class_path") + 1]
        modules.add(class_path.rsplit(".", 1)[0])
    ours = {m for m in modules if not m.startswith("tfx.")}
    assert ours and ours <= set(TASK_MODULES)
