"""Pages from the page model: one self-contained HTML file each, written safely.

Choices, and why:

* **Jinja2, autoescaping every value.** Everything on a page came from a hook (URLs,
  headers, bodies, output) or a payload, and any of it may hold ``<script>``. With
  autoescape on, a value is text unless the code says otherwise, so forgetting to escape
  is impossible rather than a review item; templates also keep the markup out of Python.
* **Nothing from the network.** The CSS (and the live page's script) sit inline, the
  timeline is inline SVG, there are no images or fonts; a Content-Security-Policy in the
  page forbids everything else (``default-src 'none'``) and names the inline style and
  script by their SHA-256, so even markup that slipped through could neither load nor run
  anything. A report opens offline, as a CI artifact.
* **Nothing a user wrote is overwritten.** A page is written only where no file is, or
  over a page the kit wrote before (``is_page`` reads the ``generator`` meta tag); it is
  written to a temporary file beside it and renamed into place, so an interrupted write
  leaves neither half a page nor a temporary file.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..errors import HookdkError
from .timeline import LANE_HEIGHT, seconds_label
from .views import STATUS_TEXT, Page, RunInfo, RunView

if TYPE_CHECKING:
    import jinja2

GENERATOR = f"hookdk {__version__}"
#: Bytes of a file read to tell whether the kit wrote it.
HEAD_BYTES = 4096
_META = re.compile(rb'<meta name="([a-z-]+)" content="([^"]*)">')


def render_page(page: Page) -> str:
    """A report: the run's settings, then each run (timeline, hook runs, requests)."""
    return _render("report.html.j2", kind="report", page=page)


def render_run(run: RunView) -> str:
    """One run as an HTML fragment: what the live page inserts."""
    template = _environment().get_template("parts.html.j2")
    return str(template.module.run(run))  # type: ignore[attr-defined]


def render_settings(info: RunInfo) -> str:
    """The settings card as an HTML fragment: the live page swaps it when they change."""
    template = _environment().get_template("parts.html.j2")
    return str(template.module.settings(info))  # type: ignore[attr-defined]


def render_live(
    *,
    repo_name: str,
    watched: str,
    info: RunInfo | None,
    runs: Iterable[str],
    after: int,
    keep: int,
) -> str:
    """The live page, with the runs so far (fragments from ``render_run``, latest first)."""
    from markupsafe import Markup

    shown = [Markup(html) for html in runs]  # noqa: S704 (made by render_run, escaped there)
    return _render(
        "live.html.j2",
        kind="live",
        script=_asset("live.js"),
        connect=True,
        repo_name=repo_name,
        watched=watched,
        info=info,
        runs=shown,
        after=after,
        keep=keep,
    )


@dataclass(frozen=True)
class IndexEntry:
    """One test's page, as the index lists it (read back from the page's meta tags)."""

    file: str
    nodeid: str
    outcome: str
    status: str
    events: int
    requests: int
    leaks: int


def render_index(entries: list[IndexEntry], title: str, generated: str) -> str:
    failed = sum(entry.outcome not in ("passed", "skipped") for entry in entries)
    statuses = [entry.status for entry in entries]
    status = "failed" if failed else max(statuses, key=list(STATUS_TEXT).index, default="ok")
    return _render(
        "index.html.j2",
        kind="index",
        entries=entries,
        title=title,
        generated=generated,
        failed=failed,
        status=status,
    )


def index_entry(path: Path) -> IndexEntry | None:
    """The index's line for a test page the kit wrote, or None for any other file."""
    meta = page_meta(path)
    if meta.get("hookdk-page") != "report" or "hookdk-test" not in meta:
        return None
    counts = dict(
        part.split("=", 1) for part in meta.get("hookdk-counts", "").split() if "=" in part
    )
    return IndexEntry(
        file=path.name,
        nodeid=meta["hookdk-test"],
        outcome=meta.get("hookdk-outcome", ""),
        status=meta.get("hookdk-status", "ok"),
        events=int(counts.get("events", 0)),
        requests=int(counts.get("requests", 0)),
        leaks=int(counts.get("leaks", 0)),
    )


# --- writing ------------------------------------------------------------------------------


def page_meta(path: Path) -> dict[str, str]:
    """The meta tags at the top of a page (empty for a file the kit did not write)."""
    import html

    try:
        with path.open("rb") as file:
            head = file.read(HEAD_BYTES)
    except OSError:
        return {}
    found = {
        name.decode(): html.unescape(value.decode("utf-8", "replace"))
        for name, value in _META.findall(head)
    }
    return found if found.get("generator", "").startswith("hookdk ") else {}


def is_page(path: Path) -> bool:
    """Whether ``path`` is a page the kit wrote (so writing over it loses nothing)."""
    return bool(page_meta(path))


def check_target(path: Path) -> None:
    """Refuse, before anything runs, a report path the page could not be written to or
    that holds a file the kit did not write."""
    if path.is_dir():
        raise HookdkError(f"{path}: a folder; give a file name for the report, e.g. report.html")
    if path.exists() and not is_page(path):
        raise HookdkError(
            f"{path} exists and is not a hookdk report: give another file name (it is "
            "not overwritten)"
        )
    if not path.parent.is_dir():
        raise HookdkError(f"{path}: no such folder {path.parent}")


def write_report(path: Path, page: Page) -> None:
    write_page(path, render_page(page))


def write_page(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, refusing to replace a file the kit did not write."""
    check_target(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# --- the templates ----------------------------------------------------------------------------


def _render(name: str, *, kind: str, script: str = "", connect: bool = False, **values: Any) -> str:
    from markupsafe import Markup

    css = _asset("report.css")
    csp = _policy(css, script, connect)
    template = _environment().get_template(name)
    # the kit's own style and script go in as written (their hashes are in the policy)
    return template.render(
        kind=kind,
        css=Markup(css),  # noqa: S704
        script=Markup(script),  # noqa: S704
        csp=csp,
        generator=GENERATOR,
        **values,
    )


def _policy(css: str, script: str, connect: bool) -> str:
    """Nothing but this page's own style (and script): no fetch, image, font or frame."""
    parts = ["default-src 'none'", f"style-src '{_digest(css)}'", "img-src data:"]
    if script:
        parts.append(f"script-src '{_digest(script)}'")
    if connect:
        parts.append("connect-src 'self'")
    parts += ["base-uri 'none'", "form-action 'none'"]
    return "; ".join(parts)


def _digest(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


@functools.cache
def _asset(name: str) -> str:
    from importlib.resources import files

    return (files(__package__) / "templates" / name).read_text(encoding="utf-8")


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader(__package__, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(FILTERS)
    environment.globals.update(status_text=STATUS_TEXT, lane_height=LANE_HEIGHT)
    return environment


def _num(value: float) -> str:
    """An SVG coordinate: one decimal, no trailing zeros (a 1,000-request page stays small)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _ms(seconds: float) -> str:
    """Seconds to the millisecond, for data attributes tests and tools read."""
    return f"{seconds:.3f}"


def _secs(seconds: float) -> str:
    """A time since the run's start, as a person reads it: ``+0.123 s``, ``+15.2 s``."""
    return f"+{seconds:.3f} s" if seconds < 10 else f"+{seconds:.1f} s"


def _duration(milliseconds: float) -> str:
    return f"{milliseconds:.0f} ms" if milliseconds < 10_000 else f"{milliseconds / 1000:.1f} s"


FILTERS: Mapping[str, Any] = {
    "num": _num,
    "ms": _ms,
    "secs": _secs,
    "duration": _duration,
    "thousands": lambda number: f"{number:,}",
    "seconds": seconds_label,
}
