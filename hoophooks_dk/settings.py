"""What a run needs besides the hook: the settings hooks read, the interpreter, the timeout,
and how the capture answers.

Hooks read their settings (``SIEM_TOKEN``, ``SIEM_URL``...) from the environment. On the
agent those come from the agent's own environment; on a laptop they come from, in order
(later wins): the caller's environment, the runbooks repo's settings file, ``--env-file``
and ``--env``. The settings file is ``hookdk.toml`` at the repo root (keys at the top level)
or the ``[tool.hookdk]`` table of the repo's ``pyproject.toml``:

    [tool.hookdk]
    python = "python3.12"
    timeout = 15
    env_mode = "inherit"          # or "clean"
    env = { SIEM_TOKEN = "test-token" }
    respond = { "POST https://siem.example.com/*" = 503, "*" = 200 }

``respond`` maps ``[METHOD ]URL-GLOB`` to the status the capture answers with; ``"*"``
alone is the default status. ``--respond`` takes the same forms (``503``, or
``'POST https://siem.example.com/*=503'``) and comes before the file's routes.

``--env-file`` is read with python-dotenv (quotes, ``export``, comments, escapes as in the
``.env`` files people already have) rather than a parser of our own. Every problem is a
``HookdkError`` naming the file and the key. Nothing here prints.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import SettingsError
from .runtime.runner import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from .capture.capture import Capture

SETTINGS_FILE = "hookdk.toml"
#: How the hook's environment starts: the caller's (``inherit``) or only what python3
#: needs (``clean``), see ``emulator.CLEAN_KEEP``.
ENV_MODES = ("inherit", "clean")
#: The capture's answer to a request no route matched.
DEFAULT_STATUS = 200
KNOWN_KEYS = ("python", "timeout", "env", "env_mode", "respond")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_METHOD = re.compile(r"[A-Za-z]+\Z")
HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


@dataclass(frozen=True)
class Route:
    """Answer requests to URLs matching ``pattern`` (a glob), with ``method`` if given."""

    pattern: str
    status: int
    method: str | None = None

    def __str__(self) -> str:
        return f"{self.method + ' ' if self.method else ''}{self.pattern}={self.status}"

    def matches(self, method: str, url: str) -> bool:
        if self.method and method.upper() != self.method:
            return False
        return fnmatch.fnmatchcase(url, self.pattern)


@dataclass(frozen=True)
class Settings:
    """A repo's defaults, as read from its settings file (empty when it has none)."""

    source: str | None = None  # "hookdk.toml" or "pyproject.toml [tool.hookdk]"
    python: str | None = None
    timeout: float | None = None
    env: dict[str, str] = field(default_factory=dict)
    env_mode: str | None = None
    default_status: int | None = None
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True)
class RunSettings:
    """Everything one run uses: the command line (or the pytest marker) over the file
    over the defaults, which ``RunSettings()`` holds. ``wiring`` turns them into a run."""

    python: str | None = None  # None: the agent runtime (``runtime.agent``)
    timeout: float = DEFAULT_TIMEOUT
    env: dict[str, str] = field(default_factory=dict)  # on top of the hook's environment
    env_mode: str | None = None  # None: inherit
    default_status: int = DEFAULT_STATUS
    routes: tuple[Route, ...] = ()
    source: str | None = None  # the settings file used, for messages


def load_settings(root: Path) -> Settings:
    """The settings of the runbooks repo at ``root``: ``hookdk.toml``, else
    ``pyproject.toml``'s ``[tool.hookdk]``, else none. Both at once is an error: one of
    them would be ignored without a word."""
    own = root / SETTINGS_FILE
    pyproject = root / "pyproject.toml"
    table = _read_toml(pyproject).get("tool", {}).get("hookdk") if pyproject.is_file() else None
    if own.is_file():
        if table is not None:
            raise SettingsError(
                f"{own} and [tool.hookdk] in {pyproject} both hold hookdk settings: "
                "keep one of them"
            )
        return _parse(_read_toml(own), SETTINGS_FILE)
    if table is None:
        return Settings()
    if not isinstance(table, dict):
        raise SettingsError(f"{pyproject}: tool.hookdk must be a table")
    return _parse(table, "pyproject.toml [tool.hookdk]")


def resolve(
    root: Path,
    *,
    python: str | None = None,
    timeout: float | None = None,
    env: Iterable[str] = (),
    env_file: str | None = None,
    respond: Iterable[str] = (),
    env_mode: str | None = None,
) -> RunSettings:
    """Command-line values (None or empty when not given) over the repo's settings file."""
    file = load_settings(root)
    extra = dict(file.env)
    if env_file:
        extra.update(read_env_file(env_file))
    extra.update(parse_env_assignment(text, "--env") for text in env)
    default_status = file.default_status
    routes: list[Route] = []
    for text in respond:
        answer = parse_respond(text, "--respond")
        if isinstance(answer, int):
            default_status = answer
        else:
            routes.append(answer)
    return RunSettings(
        python=python or file.python or None,
        timeout=timeout if timeout is not None else file.timeout or DEFAULT_TIMEOUT,
        env=extra,
        env_mode=env_mode or file.env_mode,
        default_status=default_status or DEFAULT_STATUS,
        routes=(*routes, *file.routes),
        source=file.source,
    )


def parse_env_assignment(text: str, where: str) -> tuple[str, str]:
    """``KEY=VALUE`` (VALUE may be empty or hold ``=``) for ``--env``."""
    name, sep, value = text.partition("=")
    if not sep or not _ENV_NAME.match(name):
        raise SettingsError(f"{where} {text!r}: expected KEY=VALUE, e.g. SIEM_TOKEN=test-token")
    return name, value


def read_env_file(path: str) -> dict[str, str]:
    """A ``.env`` file's variables; a line without ``=`` is an error naming it."""
    from dotenv import dotenv_values

    file = Path(path)
    if not file.is_file():
        raise SettingsError(f"--env-file {path}: no such file")
    try:
        values = dotenv_values(file, interpolate=False)
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"--env-file {path}: cannot read it: {error}") from None
    unset = [name for name, value in values.items() if value is None]
    if unset:
        raise SettingsError(f"--env-file {path}: {unset[0]} has no value (expected {unset[0]}=...)")
    return {name: value for name, value in values.items() if value is not None}


def parse_respond(text: str, where: str) -> int | Route:
    """``503`` (the default status) or ``[METHOD ]URL-GLOB=STATUS`` (a route)."""
    pattern, sep, status_text = text.rpartition("=")
    if not sep:
        return _status(text.strip(), where, text)
    return _route(pattern.strip(), _status(status_text.strip(), where, text), where, text)


def apply_routes(capture: Capture, routes: Iterable[Route]) -> None:
    """Program the capture's respx router: the first matching route answers."""
    routes = list(routes)
    if not routes:
        return  # the common case, which need not import httpx and respx
    import httpx

    for route in routes:
        lookups = {"url__regex": _url_regex(route.pattern)}
        if route.method:
            lookups["method"] = route.method
        capture.router.route(**lookups).mock(return_value=httpx.Response(route.status))


def missing_setting_fix(name: str, source: str | None = None) -> str:
    """How to give a hook the setting ``name``: the words every message uses (naming the
    repo's settings file when it has one)."""
    if source == SETTINGS_FILE:
        where = f"under [env] in {SETTINGS_FILE}"
    elif source is not None:
        where = "under [tool.hookdk.env] in pyproject.toml"
    else:
        where = f"under [tool.hookdk.env] in pyproject.toml (or [env] in {SETTINGS_FILE})"
    return f'give the hooks {name}: --env {name}=..., --env-file FILE, or {name} = "..." {where}'


# --- reading the file ------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # here, not at start-up: most repositories have no settings file

    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as error:
        raise SettingsError(f"cannot read {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: invalid TOML: {error}") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: not UTF-8 text (TOML files are UTF-8)") from None


def _parse(table: Mapping[str, Any], source: str) -> Settings:
    unknown = [key for key in table if key not in KNOWN_KEYS]
    if unknown:
        raise SettingsError(
            f"{source}: unknown key {unknown[0]!r} (known: {', '.join(KNOWN_KEYS)})"
        )
    python = table.get("python")
    if python is not None and (not isinstance(python, str) or not python):
        raise SettingsError(f'{source}: python must be a command name, e.g. "python3.12"')
    timeout = table.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise SettingsError(f"{source}: timeout must be a number of seconds above 0")
    env_mode = table.get("env_mode")
    if env_mode is not None and env_mode not in ENV_MODES:
        raise SettingsError(f"{source}: env_mode must be one of {', '.join(ENV_MODES)}")
    env = table.get("env", {})
    if not isinstance(env, dict):
        raise SettingsError(f'{source}: env must be a table of NAME = "value"')
    for name, value in env.items():
        if not _ENV_NAME.match(name) or not isinstance(value, str):
            raise SettingsError(f'{source}: env.{name} must be a string ({name} = "value")')
    default_status, routes = parse_responses(table.get("respond", {}), source)
    return Settings(
        source, python, None if timeout is None else float(timeout), dict(env), env_mode,
        default_status, routes,
    )  # fmt: skip


def parse_responses(table: Any, source: str) -> tuple[int | None, tuple[Route, ...]]:
    """A ``respond`` table, ``{"[METHOD ]URL-GLOB": status}`` with ``"*"`` alone for the
    default status (or a bare status): (the default status or None, the routes). The
    settings file and ``Siem.respond`` both read it here; ``source`` names it in errors."""
    if isinstance(table, int) and not isinstance(table, bool):
        return _status(str(table), f"{source}: respond", str(table)), ()
    if not isinstance(table, dict):
        raise SettingsError(f'{source}: respond must be a table of "[METHOD ]URL-GLOB" = status')
    default, routes = None, []
    for pattern, status in table.items():
        where = f"{source}: respond.{pattern!r}"
        if isinstance(status, bool) or not isinstance(status, int):
            raise SettingsError(f"{where} must be an HTTP status (100-599)")
        status = _status(str(status), where, str(status))
        if pattern.strip() == "*":
            default = status
        else:
            routes.append(_route(pattern.strip(), status, where, pattern))
    return default, tuple(routes)


def _status(text: str, where: str, original: str) -> int:
    if not text.isdigit() or not 100 <= int(text) <= 599:
        raise SettingsError(
            f"{where} {original!r}: expected a status (100-599) or "
            "'[METHOD ]URL-GLOB=STATUS', e.g. 'POST https://siem.example.com/*=503'"
        )
    return int(text)


def _route(pattern: str, status: int, where: str, original: str) -> Route:
    method, _, url = pattern.partition(" ")
    if not url:
        method, url = "", method
        if url.upper() in HTTP_METHODS:
            url = ""
    url = url.strip()
    if method and not _METHOD.match(method):
        raise SettingsError(f"{where} {original!r}: {method!r} is not an HTTP method")
    if not url:
        raise SettingsError(f"{where} {original!r}: no URL pattern before '='")
    return Route(url, status, method.upper() or None)


def _url_regex(pattern: str) -> str:
    """A glob over the whole URL for respx's ``url__regex``, which searches: anchor it."""
    return "^" + fnmatch.translate(pattern)
