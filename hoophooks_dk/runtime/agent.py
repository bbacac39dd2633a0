"""The agent runtime: hooks run with what Hoop's agent has, and nothing else.

On Hoop's agent a hook is ``python3`` from the agent image: Ubuntu noble's Python 3.12
with boto3 and requests installed by pip (``Dockerfile.tools``, docs/agent-runtime.md).
A developer's ``python3`` has more (httpx, click, the vendor SDKs, newer requests), so a
hook that imports one of them passes every local run and fails on every session in
production. The agent runtime is a virtual environment with exactly the image's packages
at the image's versions (``agent_packages.txt``, which names its source), built once per
user and machine in the user's cache folder, and the interpreter every face runs hooks
with unless told otherwise (``--python``, ``python`` in the settings file).

Choices, and why:

* **A venv, built with the stdlib's ``venv`` and pip.** ``python3.12`` where one runs,
  else the kit's own interpreter (every result then says that the agent runs 3.12);
  ``--without-pip`` and no system site-packages, so the hook sees the standard library,
  the pinned packages (installed ``--no-deps``: the file is the whole set) and nothing
  else: no kit package, no user site-packages (a venv turns those off). pip is the
  kit's own, pointed at the venv with ``--python`` (pip 22.3+); where the kit has none,
  the venv's ensurepip lends one and it is removed after.
* **One build per machine, safe to race.** The folder is named by a digest of the
  package list, the interpreter found and the layout; a build takes an exclusive
  ``flock`` on a lock file beside it, and ``runtime.json`` is written last, so a second
  process waits and then uses the first one's build, and an interrupted build is
  removed (or, if the process died, found incomplete and rebuilt). POSIX ``flock`` rather
  than a lock library: the kit's runners are POSIX-only already.
* **The start-up module is refreshed, not rebuilt.** ``agent_site.py`` (the socket
  capture, loaded by a ``.pth`` before the hook) is copied in whenever it differs from
  the kit's, atomically, so a kit upgrade does not download the packages again.
* **Nothing of the caller's Python leaks in.** ``environ`` drops ``PYTHONPATH``,
  ``PYTHONHOME``, ``PYTHONUSERBASE`` and ``PYTHONPLATLIBDIR`` from the hook's
  environment, and puts the runtime's ``bin`` first on ``PATH``, so that a ``python3``
  the hook starts is the runtime too (and captured), as on the agent it is the image's.

Nothing here prints: progress goes to the ``progress`` callback the faces pass.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import HookdkError
from .runner import kill_group

__all__ = [
    "AGENT_PYTHON",
    "AgentPackage",
    "Runtime",
    "agent_modules",
    "agent_packages",
    "chosen",
    "ensure",
    "runtime_folder",
]

AGENT_PYTHON = (3, 12)
PACKAGES_FILE = Path(__file__).with_name("agent_packages.txt")
SITE_SOURCE = Path(__file__).with_name("agent_site.py")
SITE_MODULE = "_hookdk_agent"
#: Raised when the way a runtime is laid out changes, so that every one is rebuilt.
LAYOUT = "1"
#: Variables that would put other packages on the runtime's ``sys.path``.
DROPPED = ("PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONPLATLIBDIR")
#: Where agent runtimes are kept, when set (see ``runtime_folder``).
FOLDER_VARIABLE = "HOOKDK_AGENT_RUNTIME"
#: pip's first version with ``--python``.
PIP_WITH_PYTHON = (22, 3)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class AgentPackage:
    """One line of ``agent_packages.txt``: a distribution and the modules it gives."""

    name: str
    version: str
    modules: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"


@cache
def agent_packages() -> tuple[AgentPackage, ...]:
    """The agent image's packages, as ``agent_packages.txt`` pins them."""
    found = []
    for line in PACKAGES_FILE.read_text(encoding="utf-8").splitlines():
        requirement, _, comment = line.partition("#")
        name, sep, version = requirement.strip().partition("==")
        if sep:
            found.append(AgentPackage(name, version, tuple(comment.split())))
    return tuple(found)


def agent_modules() -> frozenset[str]:
    """The top-level modules the agent's packages give a hook (``requests``, ``dateutil``)."""
    return frozenset(module for package in agent_packages() for module in package.modules)


@dataclass(frozen=True)
class Runtime:
    """What hooks run with: the agent runtime (``kind`` "agent") or an interpreter chosen
    with ``--python`` (``kind`` "interpreter", used as given)."""

    kind: str
    python: str
    version: str = ""  # "3.12.3": the agent runtime's, as built ("" for a chosen one)
    location: str | None = None  # the agent runtime's folder
    packages: tuple[str, ...] = ()  # "boto3==1.40.6", ...
    why_not_312: str = ""  # why the agent runtime is not on 3.12, when it is not

    @property
    def captures_sockets(self) -> bool:
        """Whether its interpreter loads the start-up module that routes every socket
        through the capture (only the agent runtime's does)."""
        return self.kind == "agent"

    @property
    def note(self) -> str | None:
        """What every result says when the hook ran on another Python than the agent's."""
        wanted = ".".join(map(str, AGENT_PYTHON))
        if self.kind != "agent" or self.version.startswith(wanted + "."):
            return None
        return (
            f"the agent runs Python {wanted}; this hook ran on Python {self.version}, because "
            f"{self.why_not_312 or 'no python3.12 was found'} (put a python3.12 on PATH and "
            "the agent runtime is rebuilt with it)"
        )

    def environ(self, env: Mapping[str, str]) -> dict[str, str]:
        """The hook's environment for this runtime (see the module docstring)."""
        if self.kind != "agent":
            return dict(env)
        result = {name: value for name, value in env.items() if name not in DROPPED}
        folder = str(Path(self.python).parent)
        path = env.get("PATH")
        result["PATH"] = f"{folder}{os.pathsep}{path}" if path else folder
        return result

    def describe(self) -> str:
        """One line: which interpreter, which packages."""
        if self.kind != "agent":
            return f"{self.python} (--python: your interpreter and its packages, as given)"
        wanted = ("boto3", "requests")
        pinned = [p.replace("==", " ") for p in self.packages if p.split("==")[0] in wanted]
        return f"agent runtime: Python {self.version}, {', '.join(pinned)}"

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"name": self.kind, "python": self.python}
        if self.kind == "agent":
            found |= {
                "version": self.version,
                "agent_version": ".".join(map(str, AGENT_PYTHON)),
                "packages": list(self.packages),
                "location": self.location,
                "captures_sockets": True,
            }
        else:
            found["captures_sockets"] = False
        return found | {"note": self.note}


def chosen(python: str) -> Runtime:
    """An interpreter the user chose (``--python``), run as given."""
    return Runtime("interpreter", python)


# --- where, and which interpreter -------------------------------------------------------


def runtime_folder() -> Path:
    """Where agent runtimes are kept: ``$HOOKDK_AGENT_RUNTIME`` when set (a CI cache, a
    test suite's workers sharing one build), else ``$XDG_CACHE_HOME/hookdk/agent-runtime``,
    else ``~/.cache/hookdk/agent-runtime`` (beside the capture's CA, where platformdirs
    would put it on Linux)."""
    if os.environ.get(FOLDER_VARIABLE):
        return Path(os.environ[FOLDER_VARIABLE])
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "hookdk" / "agent-runtime"


def _kit_python() -> str:
    """The kit's own interpreter (its base, when the kit runs in a venv)."""
    return getattr(sys, "_base_executable", "") or sys.executable


def _key() -> str:
    """The name of this machine's runtime folder: what goes into a build."""
    found = shutil.which("python3.12") or "-"
    digest = _sha256(PACKAGES_FILE.read_bytes())
    digest.update(f"\0{LAYOUT}\0{found}\0{_kit_python()}".encode())
    return digest.hexdigest()[:16]


def _sha256(data: bytes) -> Any:
    """``hashlib.sha256(data)``, from CPython's own SHA-256 where the build has it
    (``_sha2`` since 3.12, ``_sha256`` before): hashlib's loads OpenSSL, 4 ms and more of
    every ``hookdk fire``, for this one digest. A build without it uses hashlib's."""
    try:
        from _sha2 import sha256
    except ImportError:
        try:
            from _sha256 import sha256
        except ImportError:
            from hashlib import sha256
    return sha256(data)


# --- using one ------------------------------------------------------------------------


def ensure(progress: Progress | None = None) -> Runtime:
    """The agent runtime, built first if this machine has none (``progress`` hears how
    the build goes). Raises HookdkError, naming why and the way out, when it cannot be
    built (no package index, no pip)."""
    root = runtime_folder()
    key = _key()
    folder = root / key
    runtime = _read(folder)
    if runtime is None:
        with _locked(root, key):
            runtime = _read(folder) or _build(folder, progress or (lambda line: None))
    _refresh_site(Path(runtime.location or folder))
    return runtime


def _read(folder: Path) -> Runtime | None:
    try:
        data = json.loads((folder / "runtime.json").read_text(encoding="utf-8"))
        return Runtime(
            "agent",
            data["python"],
            data["version"],
            str(folder),
            tuple(data["packages"]),
            data.get("why_not_312", ""),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.contextmanager
def _locked(root: Path, key: str) -> Iterator[None]:
    import fcntl

    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = open(root / f"{key}.lock", "a")  # noqa: SIM115 (held for the block)
    except OSError as error:
        raise HookdkError(
            f"cannot build the agent runtime in {root}: {error.strerror}; set XDG_CACHE_HOME "
            "to a folder you can write, or run hooks with your own interpreter: --python python3"
        ) from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def _refresh_site(folder: Path) -> None:
    """Copy the kit's start-up module in when it differs (atomically: hooks may be
    starting meanwhile); the ``.pth`` that loads it is written by the build."""
    data = json.loads((folder / "runtime.json").read_text(encoding="utf-8"))
    target = Path(data["site_packages"]) / f"{SITE_MODULE}.py"
    source = SITE_SOURCE.read_bytes()
    with contextlib.suppress(OSError):
        if target.read_bytes() == source:
            return
    staged = target.with_name(f".{SITE_MODULE}.{os.getpid()}.tmp")
    staged.write_bytes(source)
    os.replace(staged, target)


# --- building one -------------------------------------------------------------------------


@dataclass
class _Build:
    folder: Path
    progress: Progress
    lent_pip: bool = False  # pip came from the venv's ensurepip: removed at the end
    log: list[str] = field(default_factory=list)


def _build(folder: Path, progress: Progress) -> Runtime:
    build = _Build(folder, progress)
    shutil.rmtree(folder, ignore_errors=True)  # a build that was cut short
    try:
        return _build_steps(build)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _build_steps(build: _Build) -> Runtime:
    python, why_not = _interpreter()
    progress = build.progress
    progress(f"building the agent runtime in {build.folder} (once per machine)")
    progress(f"creating a virtual environment with {python}")
    _run(build, [python, "-m", "venv", "--without-pip", str(build.folder)], "create a venv")
    venv_python = str(build.folder / "bin" / "python")
    facts = _probe(venv_python)
    packages = agent_packages()
    pinned = [str(p) for p in packages if p.name in ("boto3", "requests")]
    progress(
        f"installing {' and '.join(pinned)} and the {len(packages) - len(pinned)} packages "
        "they need (from the package index)"
    )
    _run(build, [*_pip(build, venv_python), "install", *_pip_options()], "install the packages")
    if build.lent_pip:
        _run(build, [venv_python, "-m", "pip", "uninstall", "-y", "-q", "pip"], "remove pip")
    site = Path(facts["site_packages"])
    (site / f"{SITE_MODULE}.pth").write_text(f"import {SITE_MODULE}\n", encoding="utf-8")
    (site / f"{SITE_MODULE}.py").write_bytes(SITE_SOURCE.read_bytes())
    _verify(build, venv_python)
    runtime = {
        "python": venv_python,
        "version": facts["version"],
        "packages": [str(p) for p in packages],
        "site_packages": str(site),
        "why_not_312": why_not,
        "built_with": python,
    }
    (build.folder / "runtime.json").write_text(json.dumps(runtime, indent=2), encoding="utf-8")
    progress(f"agent runtime ready: Python {facts['version']}, {len(packages)} packages")
    return _read(build.folder) or _fail(build, "its description could not be read back")


def _interpreter() -> tuple[str, str]:
    """``python3.12`` when one runs, else the kit's own; and why not 3.12, if not."""
    found = shutil.which("python3.12")
    if found is None:
        return _kit_python(), ""
    try:
        probe = subprocess.run(
            [found, "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return _kit_python(), f"{found} did not run ({error})"
    if probe.stdout.strip() == "True":
        return found, ""
    said = (probe.stderr.strip().splitlines() or ["it is not Python 3.12"])[0]
    return _kit_python(), f"{found} did not run ({said})"


def _probe(venv_python: str) -> dict[str, str]:
    code = (
        "import json, platform, sysconfig; print(json.dumps({'version': "
        "platform.python_version(), 'site_packages': sysconfig.get_path('purelib')}))"
    )
    result = subprocess.run([venv_python, "-c", code], capture_output=True, text=True)
    try:
        return json.loads(result.stdout)
    except ValueError:
        raise HookdkError(
            f"cannot build the agent runtime: its interpreter {venv_python} does not start "
            f"({_last_line(result.stderr)}); run hooks with your own interpreter: --python python3"
        ) from None


def _pip(build: _Build, venv_python: str) -> list[str]:
    """The kit's pip, pointed at the venv; else pip lent by the venv's ensurepip."""
    try:
        import pip
    except ImportError:
        pip = None
    if pip is not None:
        version = tuple(int(part) for part in pip.__version__.split(".")[:2] if part.isdigit())
        if version >= PIP_WITH_PYTHON:
            return [sys.executable, "-m", "pip", "--python", venv_python]
    build.progress("the kit's environment has no recent pip: borrowing ensurepip's")
    _run(build, [venv_python, "-m", "ensurepip", "--default-pip"], "set up pip")
    build.lent_pip = True
    return [venv_python, "-m", "pip"]


def _pip_options() -> list[str]:
    return [
        "--no-deps",  # the file is the whole set, resolved as the image resolved it
        "--only-binary",
        ":all:",
        "--no-input",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        "-r",
        str(PACKAGES_FILE),
    ]


def _verify(build: _Build, venv_python: str) -> None:
    code = "import boto3, requests"
    check = ["-c", f"{code}; import {SITE_MODULE}"]
    _run(build, [venv_python, *check], "import boto3 and requests")


def _run(build: _Build, command: list[str], what: str) -> None:
    """Run one step, its output lines going to ``progress``; fail with pip's own reason."""
    env = {name: value for name, value in os.environ.items() if name not in DROPPED}
    env["PYTHONUNBUFFERED"] = "1"
    try:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            env=env,
            start_new_session=True,  # pip --python starts a pip of its own: end them both
        )
    except OSError as error:
        _fail(build, f"cannot {what}: {command[0]}: {error.strerror}")
    with process:
        try:
            for line in process.stdout:
                line = line.rstrip()
                if line:
                    build.log.append(line)
                    build.progress(line)
            code = process.wait()
        except BaseException:  # interrupted: nothing of the build may stay behind
            kill_group(process.pid)
            raise
    if code != 0:
        _fail(build, f"could not {what} ({_reason(build.log)})")


def _reason(log: list[str]) -> str:
    errors = [line.removeprefix("ERROR: ") for line in log if line.startswith("ERROR:")]
    offline = any("NewConnectionError" in line or "Network is unreachable" in line for line in log)
    if offline:
        return "the package index cannot be reached"
    return (errors or [_last_line("\n".join(log))])[0]


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _fail(build: _Build, why: str) -> Runtime:
    raise HookdkError(
        f"cannot build the agent runtime: {why}; it needs pip and the package index once "
        "(pip's own settings apply: PIP_INDEX_URL, pip.conf), or run hooks with your own "
        'interpreter: --python python3 (python = "python3" in the settings file)'
    )
