"""tfxp: a TFX pipeline from raw CSV to a validated, evaluated, blessed and pushed model."""

from setuptools import find_packages, setup

PACKAGES = (
    "pipeline",
    "components",
    "models",
    "metadata",
    "datatools",
    "cli",
    "kubeflow",
    "serving",
    "monitoring",
    "reports",
)

setup(
    name="tfxp",
    version="0.1.0",
    description="Production TFX pipeline: validated, evaluated, blessed, pushed models, lineage",
    python_requires=">=3.10,<3.11",
    py_modules=["tfxp"],  # artifact type names: see tfxp.py
    packages=find_packages(include=[p for name in PACKAGES for p in (name, f"{name}.*")]),
    package_data={"pipeline": ["configs/*.yaml"], "kubeflow": ["profiles/*.yaml"]},
    # Exact versions live in requirements.lock, installed as constraints; these say what we use.
    install_requires=[
        "tfx[kfp]==1.16.0",
        "dill",
        "PyYAML",
        "scikit-learn",
        "google-crc32c",
        "isal",
    ],
    extras_require={"test": ["pytest", "pytest-xdist", "ruff"]},
    entry_points={"console_scripts": ["tfxp=cli.main:main"]},
)
