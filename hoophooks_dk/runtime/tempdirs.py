"""Temporary folders named for the process that owns them, and what dead runs left.

An interrupted run cleans up after itself (``interrupts``), but nothing runs when the kit
is killed with SIGKILL (or the machine stops): its folders stay, spooled request bodies
among them. So every temporary folder the kit makes is named
``hookdk-<kind>-<pid>_<random>``, the pid being the kit process that owns it, and the
first folder a process makes first removes the folders of owners that no longer run.

A folder is left alone unless it is certainly stale: it belongs to this user, and its
owner is gone, or its pid now names a process that started after the folder was made
(the pid was reused). Another user's folders, and a live run's, are never touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator

__all__ = ["make", "scratch_folder", "sweep"]

PREFIX = "hookdk-"
_NAME = re.compile(r"hookdk-[a-z]+-(\d+)_")
_swept = False
_sweeping = threading.Lock()


def make(kind: str) -> str:
    """A new temporary folder ``hookdk-<kind>-<pid>_...`` (``tempfile.mkdtemp``)."""
    _sweep_once()
    return tempfile.mkdtemp(prefix=f"{PREFIX}{kind}-{os.getpid()}_")


@contextlib.contextmanager
def scratch_folder(kind: str) -> Iterator[str]:
    """A folder of ``make(kind)``, removed with what it holds when the block ends."""
    path = make(kind)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sweep(directory: str | None = None) -> list[str]:
    """Remove the kit's folders whose owning process is gone; the paths removed."""
    directory = directory or tempfile.gettempdir()
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        found = _NAME.match(entry.name)
        if found is None or not _stale(entry, int(found.group(1))):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.path)
    return removed


def _sweep_once() -> None:
    global _swept
    with _sweeping:
        if not _swept:
            _swept = True
            sweep()


def _stale(entry: os.DirEntry, pid: int) -> bool:
    try:
        info = entry.stat(follow_symlinks=False)
    except OSError:
        return False
    if not entry.is_dir(follow_symlinks=False) or info.st_uid != os.getuid():
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process has that pid: ours is gone
        return True
    started = _started_at(pid)
    return started is not None and started > info.st_mtime + 1


def _started_at(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), where /proc says (Linux)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            ticks = int(stat.read().rpartition(b")")[2].split()[19])
        with open("/proc/stat", "rb") as system:
            boot = next(int(line.split()[1]) for line in system if line.startswith(b"btime"))
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")
