"""What the pipeline image must hold, checked against the base image's pins and inside the image.

The image is TFX's own `tensorflow/tfx` of the pinned version with this project added without
its dependencies: the TFX stack stays the one TFX built and tested (Beam 2.59 with its matching
boot binary, keras 3.6, ...), rather than the ~160 newer packages `requirements.lock` resolves.
So every distribution a task's code imports must already be in the base image
(`kubeflow/base-image.txt`) or one of the few the Dockerfile adds without dependencies
(`kubeflow/image-additions.txt`). The test suite checks that against the lists; the Dockerfile runs
`python -m kubeflow.image` after installing, which checks the same against what is installed and
imports every module a task runs.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import pathlib
import re
import sys

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from components.fingerprint import PROJECT_ROOT, imported_sources, imports_of

BASE_IMAGE_PINS = pathlib.Path(__file__).with_name("base-image.txt")
IMAGE_ADDITIONS = pathlib.Path(__file__).with_name("image-additions.txt")
# The modules a Kubeflow task imports: each executor's, and what their code imports.
TASK_MODULES = (
    "tfxp",
    "components.example_gen",
    "components.statistics_gen",
    "components.example_gate",
    "components.schema_importer",
    "components.span_records",
    "components.served_baseline",
    "components.evaluator",
    "components.pusher",
    "models.model",
    "models.preprocessing",
)
_LOCAL = {"tfxp", "components", "models", "metadata", "pipeline", "datatools", "cli", "kubeflow"}


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins_in(path: pathlib.Path) -> dict[str, SpecifierSet]:
    """The versions a requirements file pins, by normalized project name."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            pins[_key(requirement.name)] = requirement.specifier
    return pins


def image_pins() -> dict[str, SpecifierSet]:
    """What the built image holds: the base image's pins and the Dockerfile's additions."""
    return pins_in(BASE_IMAGE_PINS) | pins_in(IMAGE_ADDITIONS)


def imported_modules(modules: tuple[str, ...] = TASK_MODULES) -> set[str]:
    """Third-party modules imported anywhere in the project files `modules` run (the import
    closure code fingerprints use; imports inside functions included), as dotted names."""
    third_party = set()
    for source in imported_sources(modules, PROJECT_ROOT):
        for name in imports_of(source):
            top = name.split(".")[0]
            if top not in _LOCAL and top not in sys.stdlib_module_names and top != "__future__":
                third_party.add(name)
    return third_party


def distributions_of(modules: set[str]) -> dict[str, set[str]]:
    """Each module's installing distributions, from the files each distribution installed
    (Python 3.10's `packages_distributions` reads only top_level.txt, which numpy and
    scikit-learn lack). Two levels where the first is a namespace (`google.protobuf`)."""
    installs: dict[str, set[str]] = {}
    for dist in importlib.metadata.distributions():
        owner = _key(dist.metadata["Name"])
        names = set()
        for line in (dist.read_text("RECORD") or "").splitlines():
            parts = line.split(",", 1)[0].split("/")
            if parts[0].endswith((".dist-info", ".egg-info", ".data")) or parts[0] == "..":
                continue
            names.add(parts[0].removesuffix(".py"))
            if len(parts) > 2:
                names.add(f"{parts[0]}.{parts[1].removesuffix('.py')}")
        for name in names:
            installs.setdefault(name, set()).add(owner)
    found = {}
    for module in sorted(modules):
        top, _, rest = module.partition(".")
        second = f"{top}.{rest.split('.')[0]}" if rest else None
        key, owners = top, installs.get(top, set())
        if second and len(owners) > 1 and second in installs:
            key, owners = second, installs[second]
        found[key] = found.get(key, set()) | owners
    return found


def missing_from_base(pins: dict[str, SpecifierSet]) -> list[str]:
    """What the tasks import that the base image does not hold, and what this project declares
    that its pins do not satisfy."""
    problems = []
    for top, dists in distributions_of(imported_modules()).items():
        if not dists & set(pins):
            problems.append(f"import {top} ({', '.join(sorted(dists)) or 'unknown'}): not in base")
    for text in importlib.metadata.distribution("tfxp").requires or []:
        requirement = Requirement(text)
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue
        held = pins.get(_key(requirement.name))
        if held is None:
            problems.append(f"{text}: the base image has no {requirement.name}")
        elif requirement.specifier and not _overlaps(held, requirement.specifier):
            problems.append(f"{text}: the base image has {requirement.name}{held}")
    return problems


def _overlaps(held: SpecifierSet, wanted: SpecifierSet) -> bool:
    pinned = [s.version for s in held if s.operator == "=="]
    return all(wanted.contains(v, prereleases=True) for v in pinned) if pinned else True


def main() -> int:
    """Inside the image: the installed versions satisfy this project, and each task's
    modules import."""
    installed = {
        _key(d.metadata["Name"]): SpecifierSet(f"=={d.version}")
        for d in importlib.metadata.distributions()
    }
    problems = missing_from_base(installed)
    for module in TASK_MODULES:
        try:
            importlib.import_module(module)
        except Exception as err:  # report every broken module, not only the first
            problems.append(f"import {module}: {type(err).__name__}: {err}")
    for problem in problems:
        print(f"tfxp image: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
