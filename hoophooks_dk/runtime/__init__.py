"""The hook runtime: how a hook script runs, as the agent runs it.

* ``runner``: one ``python3`` per event, fed the script on stdin (``SubprocessRunner``);
  the gateway's timeout, output cut and exit codes.
* ``forkserver`` (with ``forkserver_main``, run by the hook's interpreter): a warm
  interpreter that forks one child per event, for test suites.
* ``keeper`` (with ``keeper_main``): the process below which every hook runs, which knows
  all it starts (a child subreaper on Linux), reports what it leaves running, ends it
  when the fire, session or test ends, and ends it all if the kit dies.
* ``tempdirs``: temporary folders named for the process that owns them; the first a
  process makes removes those of owners that are gone.
* ``sandbox`` (with ``sandbox_main``): Linux, hooks in a network namespace where only the
  capture answers, and no Unix socket file of the host.
* ``interrupts``: SIGTERM and SIGHUP unwind as Ctrl-C does.
"""

from .. import lazy_exports

_EXPORTS = {
    "Runner": "runner",
    "RunResult": "runner",
    "SubprocessRunner": "runner",
    "ForkServerRunner": "forkserver",
    "sandboxed_runner": "sandbox",
}
__all__ = list(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
