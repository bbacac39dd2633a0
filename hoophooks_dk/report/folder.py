"""A folder of pages: one per test that fired hooks, and an index (``--hoop-report DIR``).

Several processes may write to the folder at once (pytest-xdist's workers each write
their tests' pages); only the controlling process prepares the folder before the tests
and writes the index after them, reading each page's meta tags back, so no process needs
to know what the others wrote.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path

from ..errors import HookdkError
from .render import index_entry, is_page, render_index, render_page, write_page
from .views import Page

INDEX = "index.html"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def prepare(folder: Path) -> None:
    """Make ``folder`` ready for this run's pages: created if missing; the pages of an
    earlier run removed (only pages the kit wrote); refused if its index is another's."""
    if folder.exists() and not folder.is_dir():
        raise HookdkError(f"--hoop-report {folder}: a file, not a folder")
    index = folder / INDEX
    if index.exists() and not is_page(index):
        raise HookdkError(
            f"--hoop-report {folder}: {index} is not a hookdk page; give another folder "
            "(nothing in it is overwritten)"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise HookdkError(f"--hoop-report {folder}: cannot create it: {error.strerror}") from None
    for old in folder.glob("*.html"):
        if is_page(old):
            old.unlink(missing_ok=True)


def page_name(nodeid: str) -> str:
    """A file name for a test's page: readable, unique (a hash of the whole node id)."""
    tail = nodeid.rsplit("/", 1)[-1]
    readable = _UNSAFE.sub("-", tail).strip("-.")[:80] or "test"
    digest = hashlib.sha1(nodeid.encode()).hexdigest()[:8]
    return f"{readable}-{digest}.html"


def write_test_page(folder: Path, page: Page) -> Path:
    assert page.test is not None
    path = folder / page_name(page.test.nodeid)
    write_page(path, render_page(page))
    return path


def write_index(folder: Path, title: str) -> tuple[Path, int]:
    """The index of the test pages in ``folder``, in node id order; and how many."""
    entries = [
        entry
        for path in sorted(folder.glob("*.html"))
        if path.name != INDEX and (entry := index_entry(path)) is not None
    ]
    entries.sort(key=lambda entry: entry.nodeid)
    generated = datetime.now().astimezone().isoformat(sep=" ", timespec="seconds")
    path = folder / INDEX
    write_page(path, render_index(entries, title, generated))
    return path, len(entries)
