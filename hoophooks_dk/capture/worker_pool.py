"""A bounded pool of daemon threads: the capture's workers.

``concurrent.futures.ThreadPoolExecutor`` would do the scheduling, but its threads are
joined when the interpreter exits: a worker blocked on a client that stopped mid-body
would hold up the exit of a test run that never stopped its capture. These threads are
daemons, started on demand up to ``size`` and reused; tasks beyond that wait in order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

__all__ = ["WorkerPool"]


class WorkerPool:
    """Runs submitted callables on at most ``size`` daemon threads, in submission order."""

    def __init__(self, size: int, name: str = "hookdk-worker") -> None:
        self.size = size
        self.name = name
        self._tasks: queue.SimpleQueue[Callable[[], object] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0  # threads waiting for a task
        self._queued = 0  # tasks not yet taken

    def submit(self, task: Callable[[], object]) -> None:
        """Run ``task`` on a worker; raises RuntimeError when no thread can be started and
        none exists to run it (the caller then drops what it was for)."""
        with self._lock:
            self._tasks.put(task)
            self._queued += 1
            if self._queued <= self._idle or len(self._threads) >= self.size:
                return
            thread = threading.Thread(target=self._work, name=self.name, daemon=True)
            try:
                thread.start()
            except RuntimeError:
                if not self._threads:
                    raise
                return  # the threads there are will get to it
            self._threads.append(thread)

    @property
    def threads(self) -> int:
        """Worker threads started so far (they live until ``close``)."""
        with self._lock:
            return len(self._threads)

    def close(self, timeout: float = 1.0) -> None:
        """Stop the workers once their current task is done; wait ``timeout`` for each."""
        with self._lock:
            threads, self._threads = self._threads, []
        for _ in threads:
            self._tasks.put(None)
        for thread in threads:
            thread.join(timeout)

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            task = self._tasks.get()
            with self._lock:
                self._idle -= 1
                if task is None:
                    return
                self._queued -= 1
            try:
                task()
            except Exception:  # a task handles its own errors; a bug must not kill the worker
                import logging

                logging.getLogger("hoophooks_dk.capture").exception("hookdk capture worker")
