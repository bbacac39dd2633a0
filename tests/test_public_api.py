"""The public API: declared once in ``hoophooks_dk.__all__``, imported from the root,
loaded lazily, typed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import hoophooks_dk


def test_every_public_name_imports_from_the_package_root():
    namespace: dict = {}
    exec(f"from hoophooks_dk import {', '.join(hoophooks_dk.__all__)}", namespace)
    for name in hoophooks_dk.__all__:
        assert namespace[name] is getattr(hoophooks_dk, name)
    assert len(set(hoophooks_dk.__all__)) == len(hoophooks_dk.__all__)


def test_star_import_gives_exactly_all():
    namespace: dict = {}
    exec("from hoophooks_dk import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(hoophooks_dk.__all__)


def test_public_names_are_the_real_objects():
    from hoophooks_dk import Capture, Emulator, HookdkError, HoopHooks, Siem, strategies
    from hoophooks_dk.capture.capture import Capture as RealCapture
    from hoophooks_dk.testing.harness import HoopHooks as RealHoopHooks

    assert Capture is RealCapture and HoopHooks is RealHoopHooks
    assert Emulator.__module__ == "hoophooks_dk.emulator"
    assert Siem.__module__ == "hoophooks_dk.testing.harness"
    assert callable(strategies.payloads)
    errors = [
        getattr(hoophooks_dk, n)
        for n in hoophooks_dk.__all__
        if n.endswith(("Error", "Failed", "NotFound", "NotLoaded", "NotStarted"))
    ]
    assert len(errors) == 9 and all(issubclass(e, HookdkError) for e in errors)


def test_an_unknown_name_is_an_attribute_error():
    try:
        hoophooks_dk.NoSuchThing  # noqa: B018
    except AttributeError as error:
        assert "NoSuchThing" in str(error)
    else:
        raise AssertionError("no AttributeError")


def test_importing_the_package_loads_no_submodule():
    """Laziness: ``import hoophooks_dk`` runs no submodule (the CLI's start-up stays as it
    was); a public name loads its own module only."""
    code = (
        "import sys, hoophooks_dk\n"
        "print(sorted(m for m in sys.modules if m.startswith('hoophooks_dk.')))\n"
        "print('typing' in sys.modules)\n"
        "hoophooks_dk.HookdkError\n"
        "print(sorted(m for m in sys.modules if m.startswith('hoophooks_dk.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, typing_loaded, after = out.stdout.splitlines()
    assert before == "[]"
    assert typing_loaded == "False"
    assert after == "['hoophooks_dk.errors']"


def test_the_package_is_marked_typed():
    assert (Path(hoophooks_dk.__file__).parent / "py.typed").is_file()
