"""Run a hook in its own network namespace where only the capture is reachable (Linux).

Run by the hook's own interpreter as ``python3 sandbox_main.py UNIX_SOCKET PORT
[UNIX_SOCKET PORT ...]`` (the proxy, then the syslog receiver's TCP and TLS ports), with
the hook's script on standard input, exactly as the runner would run ``python3``. It
uses the standard library only, because the hook's interpreter need not have hoophooks_dk
installed.

Steps, and why:

1. ``unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS)``: a new network namespace holds
   only a loopback interface, so nothing outside the machine, nor any service on the
   host's own 127.0.0.1, nor any abstract Unix socket (those belong to a network
   namespace) can be reached. The user namespace is what lets an unprivileged user make
   it; the user is mapped to itself, so the hook sees its usual uid.
2. Bring ``lo`` up, and cover every Unix socket file of the host with ``/dev/null`` in
   the new mount namespace (a bind mount the host never sees), the capture's own
   excepted: a socket file is a way out that no network namespace closes (docker.sock,
   an ssh agent, D-Bus). Which there are is read from ``/proc/net/unix`` before leaving
   the host's network namespace, so a socket bound after the hook started is not
   covered. (Possible now: this process holds every capability in its new namespaces
   until it executes another program.)
3. Listen on 127.0.0.1:PORT inside the namespace, the port in the proxy URL the hook was
   given, and relay each connection to the capture's Unix socket. Unix sockets live in
   the file system, not in a network namespace: this one path is the only way out.
4. Start ``python3`` (this interpreter) with the inherited standard input, output and
   error, wait, and exit as it did (the same code, or killed by the same signal).

``--probe`` does steps 1 and 2 only and says in one line why not, when it cannot.
"""

import contextlib
import ctypes
import fcntl
import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
CLONE_NEWNS = 0x00020000
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def enter_namespace(keep=()):
    """Steps 1 and 2; raises OSError with the reason when the kernel says no. ``keep``:
    the socket files that stay reachable (the capture's)."""
    uid, gid = os.getuid(), os.getgid()
    host_sockets = unix_socket_files()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"unshare: {os.strerror(number)}")
    with open("/proc/self/setgroups", "w") as setgroups:
        setgroups.write("deny")
    with open("/proc/self/uid_map", "w") as uid_map:
        uid_map.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as gid_map:
        gid_map.write(f"{gid} {gid} 1")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(sock, SIOCGIFFLAGS, request)[:18])[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))
    _mount(libc, None, b"/", MS_REC | MS_PRIVATE)  # nothing done here reaches the host
    kept = {os.path.realpath(path) for path in keep}
    for path in host_sockets:
        if os.path.realpath(path) not in kept and _is_socket(path):
            with contextlib.suppress(OSError):  # a path of another mount namespace
                _mount(libc, b"/dev/null", os.fsencode(path), MS_BIND)


def unix_socket_files():
    """The paths the host's Unix sockets are bound to (``/proc/net/unix``'s last column;
    abstract names start with ``@`` and unbound sockets have none)."""
    try:
        with open("/proc/net/unix") as table:
            rows = table.readlines()[1:]
    except OSError:
        return []
    paths = {row.split(None, 7)[7].strip() for row in rows if len(row.split(None, 7)) == 8}
    return sorted(path for path in paths if path.startswith("/"))


def _is_socket(path):
    try:
        return stat.S_ISSOCK(os.lstat(path).st_mode)
    except OSError:
        return False


def _mount(libc, source, target, flags):
    libc.mount.argtypes = [
        ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p
    ]  # fmt: skip
    if libc.mount(source, target, None, flags, None) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"mount {target!r}: {os.strerror(number)}")


def relay(listener, unix_path):
    while True:
        client, _ = listener.accept()
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(unix_path)
        except OSError:
            client.close()
            upstream.close()
            continue
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for source, target in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(source, target), daemon=True).start()


def pump(source, target):
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock, how in ((target, socket.SHUT_WR), (source, socket.SHUT_RD)):
            with contextlib.suppress(OSError):
                sock.shutdown(how)


def main():
    if sys.argv[1:] == ["--probe"]:
        try:
            enter_namespace()
        except OSError as error:
            print(error.strerror or error, file=sys.stderr)
            return 1
        return 0
    args = sys.argv[1:]
    pairs = [(args[at], int(args[at + 1])) for at in range(0, len(args) - 1, 2)]
    enter_namespace(keep=[unix_path for unix_path, _ in pairs])
    for unix_path, port in pairs:
        listener = socket.create_server(("127.0.0.1", port), backlog=128)
        threading.Thread(target=relay, args=(listener, unix_path), daemon=True).start()
    hook = subprocess.Popen([sys.executable])  # inherits stdin (the script), stdout, stderr
    code = hook.wait()
    if code < 0:  # killed by a signal: end the same way, so the runner sees the same
        with contextlib.suppress(OSError, ValueError):  # SIGKILL has no handler to reset
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


if __name__ == "__main__":
    sys.exit(main())
