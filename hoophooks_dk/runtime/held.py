"""How a run held the network, in the words every result uses.

Three ways, named in every result (``network`` in ``--json``):

* ``sandboxed``: the hook ran in a network namespace whose only way out is the capture
  (``--sandbox``): every process it starts, in any language, is held;
* ``captured``: the capture answered; with the agent runtime every socket of the hook's
  Python (and of the runtime's own ``python3`` it starts) goes through it, whatever the
  client; a program of another kind that the hook starts (curl, a binary) is held only
  if it honours the proxy variables, and the result says so when one was started; with
  an interpreter of the user's (``--python``) only clients that honour the proxy
  variables are held, and the result says that too;
* ``live``: nothing was captured (``--live``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..capture.capture import Capture
    from ..capture.datagrams import RuntimeNote
    from ..emulator import FireResult

__all__ = ["CAPTURED", "LIVE", "SANDBOXED", "network_of", "warnings_for"]

SANDBOXED, CAPTURED, LIVE = "sandboxed", "captured", "live"


def network_of(runner: Any, capture: Capture | None) -> str:
    """``sandboxed``, ``captured`` or ``live`` for a run of ``runner`` with ``capture``."""
    if capture is None:
        return LIVE
    return SANDBOXED if getattr(runner, "sandboxed", False) else CAPTURED


def warnings_for(result: FireResult, notes: Iterable[RuntimeNote]) -> list[str]:
    """What the result must say about where the hook ran and what may have escaped."""
    found: list[str] = []
    runtime = result.runtime  # its note (another Python than 3.12) is shown with it
    if result.network != CAPTURED:
        return found
    if runtime is not None and not runtime.captures_sockets:
        found.append(
            f"the hook ran on {runtime.python} (--python): only clients that honour the proxy "
            "variables were captured; one that ignores them (requests with trust_env=False, "
            "urllib3, raw sockets) would reach the network: drop --python to run the agent "
            "runtime, or add --sandbox"
        )
    for note in notes:
        if note.kind == "process":
            found.append(
                f"the hook started {note.detail!r}, a program outside the agent runtime: the "
                "capture holds it only if it honours the proxy variables; what it sends any "
                "other way would reach the network (--sandbox holds every process)"
            )
        elif note.kind == "unix":
            found.append(
                f"the hook connected to the Unix socket {note.detail}: the capture does not "
                "see Unix sockets (nor does --sandbox stop them), so what went through it "
                "is not in this result"
            )
    return found
