"""Fire again on every save: the edit-fire-read loop, as a generator of runs.

``watch`` fires once at the start, then again each time a hook file or a settings file
(``hookdk.toml``, ``pyproject.toml``) is saved, and yields a ``Run`` for each: what the
hook did, what it sent, what it leaked, or why nothing ran. One emulator (so one warm
fork server and one capture) serves the whole watch; a settings file's save opens a new
one, so that settings read when the emulator is made are read again. Nothing here prints:
``hookdk watch`` formats the runs.

Choices, and why:

* **watchfiles** (Rust's ``notify``: inotify, FSEvents, kqueue, polling as a fallback)
  rather than a hand-written polling loop: it sees a save within milliseconds without
  spinning, groups the several events one save makes (an editor's write-to-temp and
  rename) into one batch, and turns Ctrl-C into ``KeyboardInterrupt`` while it waits.
  Its notifier (``RustNotify``, the documented backend of ``watchfiles.watch``) is used
  directly, because ``watch()`` starts it only when first asked for changes: here it must
  be on before the first run and all along, so that a save made during a run is seen.
* **Folders are watched, not files, and not recursively.** Editors save by writing a new
  file and renaming it over the old one, which a watch on the file itself would lose
  after the first save; the repository root and ``hoop-hooks/`` are watched one level
  deep (a recursive watch of a large repository costs an inotify watch per folder), and
  only the four paths that matter (and a payload file, when one is given) pass the
  filter. When ``hoop-hooks/`` appears or disappears, the watch restarts on the new set
  of folders.
* **Batches are closed after ``STEP_MS`` of quiet** (watchfiles' default is 50): a save
  is a burst of events a few milliseconds long, and the save-to-result latency is a
  target (``benchmarks/run.py``).
* **Errors that are the user's to fix never end the watch.** Hooks Hoop would not load (a
  template error), a missing hook, a payload the schema rejects: the run carries the
  message and the watch waits for the next save. A hook that crashes is just a result.
  Anything else is a bug in the kit and ends the watch with its traceback.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import HookdkError, HoopFinding
from .hooks import HOOK_PATHS
from .render import HooksNotLoaded

if TYPE_CHECKING:
    from .emulator import Emulator, FireResult
    from .leaks import Leak

HOOKS_FOLDER = "hoop-hooks"
SETTINGS_FILES = ("hookdk.toml", "pyproject.toml")
WATCHED_FILES = (*HOOK_PATHS.values(), *SETTINGS_FILES)
#: Milliseconds without a new file event that close a batch of changes (one save).
STEP_MS = 20
#: Longest a batch may keep growing (a checkout touching file after file).
DEBOUNCE_MS = 1600

#: Makes the emulator for a watch (and again after a settings file changes).
OpenEmulator = Callable[[], contextlib.AbstractContextManager["Emulator"]]
#: One run's firing: an event, or a session flow, through the emulator.
Fire = Callable[["Emulator"], list["FireResult"]]


@dataclass(frozen=True)
class Run:
    """One firing: why it happened, and what came of it."""

    number: int  # 1 for the run at start
    started: datetime
    changed: tuple[str, ...]  # paths relative to the repo that triggered it; () at start
    results: list[FireResult] = field(default_factory=list)
    error: str | None = None  # why nothing ran (hooks not loaded, no hook, bad payload)
    cause: Exception | None = field(default=None, repr=False)  # the error, for hints

    @property
    def leaks(self) -> list[Leak]:
        """Payload secrets the hooks sent out, over every result of the run."""
        return [leak for result in self.results for leak in result.leaks]

    @property
    def ok(self) -> bool:
        """Something ran, Hoop would record success, and no payload secret went out."""
        return self.error is None and not self.leaks and all(r.ok for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.number,
            "started": self.started.isoformat(timespec="milliseconds"),
            "changed": list(self.changed),
            "ok": self.ok,
            "error": self.error,
            "results": [result.to_dict() for result in self.results],
        }


def watch(
    repo: Path,
    open_emulator: OpenEmulator,
    fire: Fire,
    *,
    also: Iterable[Path] = (),
    stop: Any = None,
    step_ms: int = STEP_MS,
) -> Iterator[Run]:
    """Yield a run at once, then one per batch of saves, until ``stop`` is set (anything
    with ``is_set()``) or Ctrl-C (raised as ``KeyboardInterrupt``).

    ``also`` names more files whose saves fire a run (a payload file), reported by the
    path given. The emulator (its runner, its capture) stays open while the generator is
    suspended; close the generator (``contextlib.closing``) to close it at once.
    """
    with contextlib.ExitStack() as opened:
        emulator = None
        batches = _batches(_Watched(repo, also), stop, step_ms)
        for number, changed in enumerate(batches, start=1):
            started = datetime.now().astimezone()
            if emulator is not None and any(path in SETTINGS_FILES for path in changed):
                opened.close()  # settings changed: a new emulator reads them again
                emulator = None
            try:
                if emulator is None:
                    emulator = opened.enter_context(open_emulator())
                run = _fired(number, started, changed, emulator, fire)
            except (HooksNotLoaded, HookdkError) as error:
                run = Run(number, started, changed, error=_message(error), cause=error)
            yield run


def _fired(
    number: int, started: datetime, changed: tuple[str, ...], emulator: Emulator, fire: Fire
) -> Run:
    return Run(number, started, changed, fire(emulator))


def _message(error: Exception) -> str:
    return str(error) if isinstance(error, HoopFinding) else f"error: {error}"


def _batches(watched: _Watched, stop: Any, step_ms: int) -> Iterator[tuple[str, ...]]:
    """``()`` once the watch is on, then the watched paths each batch of saves touched.

    A notifier is running whenever a batch is yielded, so a save made while a run is
    under way is kept for the next batch, never lost. When ``hoop-hooks/`` comes or goes,
    the notifier on the new set of folders is started before that batch is yielded.
    """
    pending: tuple[str, ...] | None = ()
    while True:
        folders = watched.folders()
        with _notifier(folders) as notifier:
            if pending is not None:
                yield pending
                pending = None
            while True:
                batch = notifier.watch(DEBOUNCE_MS, step_ms, 0, stop)
                if batch == "signal":
                    raise KeyboardInterrupt
                if batch == "stop":
                    return
                changed = watched.relevant(batch)
                if watched.folders() != folders:  # hoop-hooks/ came or went: watch anew first
                    pending = changed or (HOOKS_FOLDER,)
                    break
                if changed:
                    yield changed


class _Watched:
    """The files whose saves fire a run, and the folders to watch for them."""

    def __init__(self, repo: Path, also: Iterable[Path]) -> None:
        self.repo = repo
        self.names = {str(repo / name): name for name in WATCHED_FILES}
        self.names |= {str(path.resolve()): str(path) for path in also}

    def folders(self) -> tuple[Path, ...]:
        hooks = self.repo / HOOKS_FOLDER
        found = [self.repo, hooks, *(Path(name).parent for name in self.names)]
        return tuple(dict.fromkeys(folder for folder in found if folder.is_dir()))

    def relevant(self, batch: set[tuple[int, str]]) -> tuple[str, ...]:
        """The watched files among the changed paths, by their names here, sorted."""
        return tuple(sorted({self.names[path] for _, path in batch if path in self.names}))


def _notifier(folders: tuple[Path, ...]):  # -> watchfiles' RustNotify
    """watchfiles' notifier on ``folders``, one level deep, honouring the variables its
    ``watch()`` honours (WATCHFILES_FORCE_POLLING, WATCHFILES_POLL_DELAY_MS, for file
    systems without change events: network mounts, some containers)."""
    from watchfiles._rust_notify import RustNotify

    forced = os.environ.get("WATCHFILES_FORCE_POLLING", "")
    force_polling = bool(forced) and forced.lower() not in {"false", "disable", "disabled"}
    delay = os.environ.get("WATCHFILES_POLL_DELAY_MS", "")
    poll_delay_ms = int(delay) if delay.isdecimal() else 300
    paths = [str(folder) for folder in folders]
    try:
        return RustNotify(paths, False, force_polling, poll_delay_ms, False, False)
    except (OSError, RuntimeError) as error:  # e.g. the system's inotify watches used up
        raise HookdkError(f"cannot watch {', '.join(paths)}: {error}") from None
