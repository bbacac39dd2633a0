"""Which local process is at the other end of a socket: the syslog receiver's port lock.

The proxy's port is locked by a secret its clients send (``policy.credentials``); syslog
has nowhere to carry one, and a hook's syslog code must run unchanged. So the receiver
asks the kernel who sent (Linux): the sender's socket is found in ``/proc/net/tcp`` or
``/proc/net/udp`` by its address, and its owner among the processes allowed to send, by
the socket's inode in their ``/proc/<pid>/fd``. A Unix socket (the sandbox's relay) says
its sender's pid itself (``SO_PEERCRED``). Allowed: the kit's own process and every
process below a hook's keeper (``runtime.keeper.hook_processes``), the hooks this run
started, whatever they started in turn.

What cannot be judged is let in: a sender that closed its socket before the receiver
looked (a datagram sent and the socket closed at once, as hooks often do) has left no
trace to compare, and elsewhere than Linux there is no ``/proc``. That is why the
payload's canary values differ from run to run (``payload.RUN_MARK``): a message let in
this way still cannot forge a leak, since only the run's hooks were given the values.
"""

from __future__ import annotations

import os
import socket
import struct
import sys

from ..runtime.keeper import hook_processes

__all__ = ["from_the_run"]

_PEERCRED = struct.Struct("3i")  # pid, uid, gid


def from_the_run(transport: str, sock: socket.socket, address: object) -> bool | None:
    """Whether what came on ``sock`` (a connection accepted, or the UDP socket a datagram
    from ``address`` came to) was sent by the kit or one of its hooks: True, False, or
    None when it cannot be told (see the module docstring)."""
    if sock.family == socket.AF_UNIX:
        return _unix_sender(sock)
    if not sys.platform.startswith("linux") or not isinstance(address, tuple):
        return None

    def inode() -> int | None:
        if transport == "udp":
            return _udp_inode(address[1])
        return _tcp_inode(address, sock.getsockname())

    seen = inode()
    if not seen:
        return None
    if any(_holds(pid, seen) for pid in _allowed()):
        return True
    # No allowed process holds it: a stranger's, unless the sender closed it while we
    # looked (then it cannot be told)
    return False if inode() == seen else None


def _allowed() -> list[int]:
    """The hooks' processes first (few, and the usual senders), then the kit's own."""
    return [*sorted(hook_processes()), os.getpid()]


def _unix_sender(sock: socket.socket) -> bool | None:
    try:
        pid, _, _ = _PEERCRED.unpack(
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
        )
    except (OSError, AttributeError):  # no SO_PEERCRED here (macOS has LOCAL_PEERCRED)
        return None
    return pid in _allowed() if pid else None


def _tcp_inode(peer: tuple, ours: tuple) -> int | None:
    """The inode of the client's end of a TCP connection from ``peer`` to ``ours``."""
    for local, remote, inode in _rows("/proc/net/tcp"):
        if local == (peer[0], peer[1]) and remote == (ours[0], ours[1]):
            return inode
    return None


def _udp_inode(port: int) -> int | None:
    """The inode of the UDP socket bound to ``port`` on a loopback or any address."""
    for local, _, inode in _rows("/proc/net/udp"):
        if local[1] == port and local[0] in ("127.0.0.1", "0.0.0.0"):
            return inode
    return None


def _rows(table: str) -> list[tuple[tuple[str, int], tuple[str, int], int]]:
    """(local address, remote address, inode) of each socket in an IPv4 table."""
    try:
        with open(table) as file:
            lines = file.readlines()[1:]
    except OSError:
        return []
    rows = []
    for line in lines:
        fields = line.split()
        if len(fields) > 9:
            rows.append((_address(fields[1]), _address(fields[2]), int(fields[9])))
    return rows


def _address(text: str) -> tuple[str, int]:
    """``0100007F:A048`` (the address in host byte order, the port big-endian)."""
    host, port = text.split(":")
    raw = bytes.fromhex(host)
    if sys.byteorder == "little":
        raw = raw[::-1]
    return socket.inet_ntoa(raw), int(port, 16)


def _holds(pid: int, inode: int) -> bool:
    """Whether process ``pid`` has the socket ``inode`` open."""
    wanted = f"socket:[{inode}]"
    folder = f"/proc/{pid}/fd"
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    for name in names:
        try:
            if os.readlink(f"{folder}/{name}") == wanted:
                return True
        except OSError:
            continue
    return False
