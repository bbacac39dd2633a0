"""Files shipped with the kit: JSON Schemas, hook templates and the documentation pages.

They live at the top of the repository (``schemas/``, ``templates/``, ``docs/``) and are copied into
the wheel under ``hoophooks_dk/_data``. Reading them through importlib.resources keeps a
plain ``pip install .`` working; the fallback to the checkout serves editable installs,
where hatch does not map force-included folders into the package.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path


def data_dir(name: str) -> Traversable:
    """The shipped folder ``name`` ("schemas", "templates" or "docs")."""
    packaged = resources.files("hoophooks_dk") / "_data" / name
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"hoophooks_dk is installed without its {name}/ folder")


def schema_path(name: str = "hook-payload.schema.json") -> Traversable:
    return data_dir("schemas") / name


def read_schema_text(name: str = "hook-payload.schema.json") -> str:
    return schema_path(name).read_text(encoding="utf-8")
