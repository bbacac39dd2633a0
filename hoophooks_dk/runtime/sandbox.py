"""``--sandbox``: hooks in a network namespace of their own, where only the capture answers.

Without it the capture catches every client that honours the proxy variables, and a
client that ignores them (``trust_env=False``, a raw socket) reaches the network. With it
(Linux, where unprivileged user namespaces are allowed), each hook runs in a fresh
network namespace whose only interface is its own loopback: the proxy address the hook
was given is relayed to the capture over a Unix socket, and every other address, the
internet and the host's own 127.0.0.1 services alike, is unreachable. A mount namespace
of its own covers every Unix socket file of the host (docker.sock, an ssh agent) but the
capture's. So a client that goes around the proxy fails instead of sending anything.

How: the runner starts ``sandbox_main.py`` with the hook's interpreter in place of
``python3`` (through a two-line wrapper script in the capture's folder, so the standard
runner runs it unchanged); that launcher enters the namespaces, starts the relay, then
runs ``python3`` on the hook as usual. The hook keeps its uid, standard input, output,
exit code and process group. Hooks run one interpreter each (the fast runner's warm
fork server cannot move into a new namespace per event).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import HookdkError
from .runner import DEFAULT_PYTHON, SubprocessRunner

if TYPE_CHECKING:
    from ..capture.capture import Capture

__all__ = ["sandboxed_runner", "unavailable"]

LAUNCHER = Path(__file__).with_name("sandbox_main.py")


def unavailable(python: str = DEFAULT_PYTHON) -> str | None:
    """Why hooks cannot be sandboxed here, in a few words; None when they can."""
    if sys.platform != "linux":
        return "network namespaces exist only on Linux"
    try:
        probe = subprocess.run(
            [python, str(LAUNCHER), "--probe"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"cannot run {python!r}: {error}"
    if probe.returncode != 0:
        reason = probe.stderr.strip().splitlines()[-1:] or ["unknown error"]
        return f"user and network namespaces are not available ({reason[0]})"
    return None


def sandboxed_runner(python: str, capture: Capture) -> SubprocessRunner:
    """A standard runner whose hooks run sandboxed, reaching only ``capture``.

    Raises HookdkError, naming the reason, when the sandbox is unavailable.
    """
    reason = unavailable(python)
    if reason is None and (capture.unix_socket is None or capture.folder is None):
        reason = "the capture has no Unix socket (its temporary folder's path is too long)"
    if reason is not None:
        raise HookdkError(f"--sandbox: {reason}; run without --sandbox")
    assert capture.folder is not None and capture.unix_socket is not None
    port = capture.proxy_url.rpartition(":")[2]
    wrapper = capture.folder / "sandboxed-python"
    command = [python, str(LAUNCHER), capture.unix_socket, port]
    receiver = getattr(capture, "syslog", None)
    capture.syslog_per_client = False  # the relay knows the shared ports only
    for transport, path in (receiver.unix_sockets if receiver is not None else {}).items():
        command += [path, str(receiver.port(transport))]  # syslog over TCP and TLS too
    wrapper.write_text(f"#!/bin/sh\nexec {shlex.join(command)}\n")
    wrapper.chmod(0o700)
    return SubprocessRunner(str(wrapper))
