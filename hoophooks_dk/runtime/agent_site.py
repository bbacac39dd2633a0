"""The agent runtime's start-up module: whatever client a hook uses, its sockets reach the capture.

``runtime.agent`` copies this file into the agent runtime's site-packages as
``_hookdk_agent.py``, with ``_hookdk_agent.pth`` beside it (one line: ``import
_hookdk_agent``), so the runtime's interpreter loads it at start-up, before the hook,
without any variable of the environment changed. It runs inside the agent runtime, which
has no kit package: standard library only, Python 3.9 or later.

It does nothing unless the hook's environment holds ``HOOKDK_CAPTURE`` (the capture's
address and the run's credentials, JSON, set by ``Capture.environ``: never with
``--live``), read once per process at its first network call. Then, in every client:

* **Names resolve to stand-ins.** ``getaddrinfo`` (and ``gethostbyname``...) answer any
  name with an address of 198.18.0.0/15 (RFC 2544's benchmarking range; ``fd68::/16``
  for IPv6) that maps back to the name, so no query leaves and the capture sees the
  name. Each name is reported to the capture once per process.
* **TCP goes through the proxy.** ``connect``/``connect_ex`` of a TCP socket to anything
  but the kit's own endpoints connects to the capture's proxy instead and opens a CONNECT
  tunnel to the address the hook asked for (the name, when it came from a lookup), with
  the run's credentials and the ``Hookdk-Socket`` header; the client's own bytes follow,
  TLS included. The capture records HTTP as requests and anything else as a connection.
  TCP to a syslog port goes to the syslog receiver (6514 to its TLS port).
* **UDP goes to the capture.** ``sendto`` (and ``send`` on a connected UDP socket): to a
  syslog port, the syslog receiver's UDP port; anything else to the capture's datagram
  port, behind a header naming the run and the target.
* **TLS trusts the capture's CA** in every context that verifies, so a client that
  ignores ``SSL_CERT_FILE`` (requests with ``trust_env=False``, a bundle of its own)
  still talks to the capture.
* **What cannot be held is reported**: programs started (subprocess, ``os.system``, the
  exec and spawn functions) other than this runtime's own scripts, and Unix socket
  connections. Outside the sandbox those may go around the capture; the result says so.

``socket``, ``ssl`` and ``subprocess`` are patched as they are first imported (a finder
on ``sys.meta_path``), so a hook that opens no socket pays nothing.
"""

import _thread
import os
import sys

VARIABLE = "HOOKDK_CAPTURE"
#: The header that marks a CONNECT as a socket of this module's, not an HTTP client's.
SOCKET_HEADER = "Hookdk-Socket"
#: The first line of a datagram to the capture's datagram port (see ``_report``).
DATAGRAM_MAGIC = b"HOOKDK1"
#: Syslog's ports: TCP to these goes to the receiver's TCP port, or its TLS port for
#: 6514 (RFC 5425); UDP to them to its UDP port.
SYSLOG_TCP_PORTS = {514: "tcp", 601: "tcp", 1514: "tcp", 6514: "tls"}
SYSLOG_UDP_PORTS = {514, 1514}
#: Seconds a non-blocking socket may wait for the capture's answer to CONNECT.
HANDSHAKE_TIMEOUT = 30.0
_MAX_DATAGRAM = 65507  # IPv4's largest UDP payload: header and data must fit

_state = {"pid": None, "config": None}
_names = {}  # stand-in address -> the name it stands for
_addresses = {}  # (family, lower-case name) -> stand-in address
_reported = set()  # (kind, detail) already reported by this process
_real = {}  # the functions replaced, by name
_numbering = _thread.allocate_lock()  # stand-ins are numbered one at a time


def _active():
    """The capture's settings for this process, None when there is no capture. Read
    again in a new process (a fork server's child gets its event's environment)."""
    pid = os.getpid()
    if _state["pid"] != pid:
        _state["pid"], _state["config"] = pid, _read_config(os.environ.get(VARIABLE))
        _reported.clear()
    return _state["config"]


def _read_config(text):
    if not text:
        return None
    import binascii
    import json

    try:
        config = json.loads(text)
        secret = "{}:{}".format(config["user"], config["secret"]).encode()
        config["authorization"] = "Basic " + binascii.b2a_base64(secret, newline=False).decode()
        syslog = config.get("syslog") or {}
        config["kit_ports"] = {config["proxy"], config["udp"], *syslog.values()}
    except (ValueError, KeyError, TypeError):
        return None
    return config


# --- names --------------------------------------------------------------------------------


def _stand_in(name, family):
    """The stand-in address of ``name`` for ``family`` (AF_INET or AF_INET6)."""
    import socket

    key = (family, name.lower())
    with _numbering:
        address = _addresses.get(key)
        fresh = address is None
        if fresh:
            number = len(_addresses) + 1
            if family == socket.AF_INET6:
                address = f"fd68::{number >> 16:x}:{number & 0xFFFF:x}"
            else:
                address = f"198.{18 + (number >> 16)}.{(number >> 8) & 255}.{number & 255}"
            _addresses[key] = address
            _names[address] = name
    if fresh:
        _report(b"dns", name)
    return address


def _name_of(host):
    """``host`` as a name to stand in for, or None: no host, or an address already."""
    if host is None:
        return None
    if isinstance(host, (bytes, bytearray)):
        host = bytes(host).decode("ascii", "replace")
    if not host or host in _names:
        return None
    import socket

    try:
        _real["getaddrinfo"](host, None, 0, 0, 0, socket.AI_NUMERICHOST)
    except (OSError, UnicodeError):
        return host
    return None


def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    import socket

    name = _name_of(host) if _active() else None
    if name is None or family not in (socket.AF_UNSPEC, socket.AF_INET, socket.AF_INET6):
        return _real["getaddrinfo"](host, port, family, type, proto, flags)
    family = socket.AF_INET6 if family == socket.AF_INET6 else socket.AF_INET
    number = _port_number(port)
    address = _stand_in(name, family)
    sockaddr = (address, number, 0, 0) if family == socket.AF_INET6 else (address, number)
    kinds = [(type, proto)] if type else [(socket.SOCK_STREAM, 6), (socket.SOCK_DGRAM, 17)]
    canonical = name if flags & socket.AI_CANONNAME else ""
    return [
        (socket.AddressFamily(family), socket.SocketKind(kind), number_proto, canonical, sockaddr)
        for kind, number_proto in kinds
    ]


def _port_number(port):
    import socket

    if port is None:
        return 0
    if isinstance(port, (bytes, bytearray)):
        port = bytes(port).decode("ascii", "replace")
    if isinstance(port, str) and not port.isdigit():
        try:
            return socket.getservbyname(port)
        except OSError:
            message = "Servname not supported for ai_socktype"
            raise socket.gaierror(socket.EAI_SERVICE, message) from None
    return int(port)


def gethostbyname(host):
    name = _name_of(host) if _active() else None
    if name is None:
        return _real["gethostbyname"](host)
    import socket

    return _stand_in(name, socket.AF_INET)


def gethostbyname_ex(host):
    name = _name_of(host) if _active() else None
    if name is None:
        return _real["gethostbyname_ex"](host)
    return name, [], [gethostbyname(name)]


def gethostbyaddr(host):
    """A stand-in maps back to its name; nothing else is asked of DNS while capturing."""
    if not _active():
        return _real["gethostbyaddr"](host)
    if host in _names:
        return _names[host], [], [host]
    name = _name_of(host)
    if name is not None:
        return name, [], [gethostbyname(name)]
    return host, [], [host]


def getnameinfo(sockaddr, flags):
    if _active() and sockaddr and sockaddr[0] in _names:
        return _names[sockaddr[0]], str(sockaddr[1])
    if _active():
        import socket

        flags |= socket.NI_NUMERICHOST
    return _real["getnameinfo"](sockaddr, flags)


# --- sockets ------------------------------------------------------------------------------


class _Peers:
    """Per socket: the address the hook connected to (``getpeername``) and, for UDP, the
    target its ``send`` calls are for. Weak keys: a socket's entry goes with it."""

    def __init__(self):
        import weakref

        self.address = weakref.WeakKeyDictionary()
        self.datagrams = weakref.WeakKeyDictionary()


_peers = None


def _plan(sock, address):
    """What a connect of ``sock`` to ``address`` becomes: None (as asked), or (how, target
    host, target port) with how one of ``tunnel``, ``syslog-tcp``, ``syslog-tls``,
    ``syslog-udp``, ``datagram``."""
    import socket

    config = _active()
    if config is None:
        return None
    family = sock.family
    if family == getattr(socket, "AF_UNIX", None):
        _report_unix(address, config)
        return None
    if family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
        return None
    host, port = address[0], int(address[1])
    if host in ("127.0.0.1", "::ffff:127.0.0.1") and port in config["kit_ports"]:
        return None  # the kit's own endpoints: the proxy, the datagram and syslog ports
    target = _names.get(host, host)
    syslog = config.get("syslog") or {}
    if sock.type == socket.SOCK_STREAM:
        transport = SYSLOG_TCP_PORTS.get(port)
        if transport and transport in syslog:
            return "syslog-" + transport, target, port
        return "tunnel", target, port
    if sock.type == socket.SOCK_DGRAM:
        if port in SYSLOG_UDP_PORTS and "udp" in syslog:
            return "syslog-udp", target, port
        return "datagram", target, port
    return None


def _loopback(sock, port):
    import socket

    if sock.family == socket.AF_INET6:
        return ("::ffff:127.0.0.1", port, 0, 0)
    return ("127.0.0.1", port)


def connect(self, address):
    plan = _plan(self, address)
    if plan is None:
        return _real["connect"](self, address)
    _open(self, address, plan)


def connect_ex(self, address):
    plan = _plan(self, address)
    if plan is None:
        return _real["connect_ex"](self, address)
    import errno

    try:
        _open(self, address, plan)
    except OSError as error:
        return error.errno or errno.ECONNREFUSED
    return 0


def _open(sock, address, plan):
    """Connect ``sock`` where ``plan`` says, blocking even when the socket is not (the
    tunnel's handshake must be over before the client's own bytes go), then put back the
    socket's mode."""
    import _socket

    global _peers
    how, host, port = plan
    config = _active()
    syslog = config.get("syslog") or {}
    timeout = _socket.socket.gettimeout(sock)
    if timeout == 0.0:
        _socket.socket.settimeout(sock, HANDSHAKE_TIMEOUT)
    try:
        if how == "tunnel":
            _real["connect"](sock, _loopback(sock, config["proxy"]))
            _tunnel(sock, host, port, config)
        elif how == "datagram":
            _real["connect"](sock, _loopback(sock, config["udp"]))
        else:
            _real["connect"](sock, _loopback(sock, syslog[how.partition("-")[2]]))
    finally:
        if timeout == 0.0:
            _socket.socket.settimeout(sock, 0.0)
    if _peers is None:
        _peers = _Peers()
    _peers.address[sock] = address
    if how == "datagram":
        _peers.datagrams[sock] = (host, port)


def _authority(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _tunnel(sock, host, port, config):
    """CONNECT through the proxy; the head of its answer is read and nothing more (a
    programmed reply may follow it at once). The socket's own class is bypassed: an
    SSLSocket being connected already has its TLS object, and would speak TLS here."""
    import _socket
    import errno

    authority = _authority(host, port)
    request = (
        "CONNECT {0} HTTP/1.1\r\nHost: {0}\r\nProxy-Authorization: {1}\r\n{2}: tcp\r\n\r\n"
    ).format(authority, config["authorization"], SOCKET_HEADER)
    _socket.socket.sendall(sock, request.encode("utf-8", "surrogateescape"))
    head = b""
    while True:
        peeked = _socket.socket.recv(sock, 4096, _socket.MSG_PEEK)
        if not peeked:
            raise ConnectionResetError(errno.ECONNRESET, "hookdk capture closed the tunnel")
        end = (head + peeked).find(b"\r\n\r\n")
        wanted = len(peeked) if end < 0 else end + 4 - len(head)
        while wanted:
            chunk = _socket.socket.recv(sock, wanted)
            if not chunk:
                raise ConnectionResetError(errno.ECONNRESET, "hookdk capture closed the tunnel")
            head, wanted = head + chunk, wanted - len(chunk)
        if end >= 0:
            break
    status = head.split(b" ", 2)[1:2]
    if status != [b"200"]:
        raise ConnectionRefusedError(
            errno.ECONNREFUSED, "hookdk capture refused the tunnel to " + authority
        )


def getpeername(self):
    if _peers is not None:
        address = _peers.address.get(self)
        if address is not None:
            return address
    return _real["getpeername"](self)


def sendto(self, data, *rest):
    """``sendto(data, address)`` or ``sendto(data, flags, address)``."""
    address = rest[-1] if rest else None
    plan = _plan(self, address) if rest else None
    if plan is None:
        return _real["sendto"](self, data, *rest)
    how, host, port = plan
    flags = rest[0] if len(rest) == 2 else 0
    config = _active()
    if how == "syslog-udp":
        return _real["sendto"](self, data, flags, _loopback(self, config["syslog"]["udp"]))
    if how != "datagram":
        return _real["sendto"](self, data, *rest)  # a TCP socket: as asked, it will fail
    _real["sendto"](
        self, _datagram(b"udp", host, port, data, config), flags, _loopback(self, config["udp"])
    )
    return len(memoryview(data))


def send(self, data, flags=0):
    target = _datagram_target(self)
    if target is None:
        return _real["send"](self, data, flags)
    _real["send"](self, _datagram(b"udp", target[0], target[1], data, _active()), flags)
    return len(memoryview(data))


def sendall(self, data, flags=0):
    target = _datagram_target(self)
    if target is None:
        return _real["sendall"](self, data, flags)
    send(self, data, flags)


def _datagram_target(sock):
    """The target of a UDP socket connected through ``datagram``; None for any other
    (the common case costs two looks, as TCP sends pass here too)."""
    if _peers is None or not _peers.datagrams:
        return None
    return _peers.datagrams.get(sock)


def _datagram(kind, host, port, data, config):
    """The header (magic, kind, user, secret, target host and port) and the data, cut to
    what one datagram holds."""
    host = str(host).encode("utf-8", "surrogateescape").replace(b" ", b"%20")
    head = b" ".join(
        [
            DATAGRAM_MAGIC,
            kind,
            config["user"].encode(),
            config["secret"].encode(),
            host,
            str(port).encode(),
        ]
    )
    body = bytes(memoryview(data))
    return head + b"\n" + body[: _MAX_DATAGRAM - len(head) - 1]


def _report(kind, detail):
    """Tell the capture something it cannot see for itself, once per process; best
    effort (under the sandbox the datagram port is out of reach)."""
    config = _active()
    if config is None or (kind, detail) in _reported:
        return
    _reported.add((kind, detail))
    import _socket

    try:
        sock = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
        try:
            data = _datagram(kind, "-", 0, str(detail).encode("utf-8", "surrogateescape"), config)
            _socket.socket.sendto(sock, data, 0, ("127.0.0.1", config["udp"]))
        finally:
            sock.close()
    except OSError:
        pass


def _report_unix(address, config):
    path = address.decode("utf-8", "replace") if isinstance(address, bytes) else str(address)
    folder = config.get("folder")
    if folder and path.startswith(folder):
        return  # the capture's own sockets (the sandbox's way out)
    _report(b"unix", path)


# --- TLS ----------------------------------------------------------------------------------


def _trust_capture(context, *, cafile=None):
    config = _active()
    ca = config and config.get("ca")
    if ca and cafile != ca:
        try:  # noqa: SIM105 (contextlib is not loaded at start-up: keep it that way)
            _real["load_verify_locations"](context, cafile=ca)
        except OSError:
            pass


def load_verify_locations(self, cafile=None, capath=None, cadata=None):
    _real["load_verify_locations"](self, cafile, capath, cadata)
    _trust_capture(self, cafile=cafile)


def set_default_verify_paths(self):
    _real["set_default_verify_paths"](self)
    _trust_capture(self, cafile=os.environ.get("SSL_CERT_FILE"))


# --- programs -----------------------------------------------------------------------------


def _note_program(program):
    """Report a program the hook starts, unless it is one of this runtime's own (its
    python, or a script of its bin folder): those load this module too."""
    if not _active() or program is None:
        return
    if isinstance(program, (bytes, bytearray)):
        program = os.fsdecode(bytes(program))
    program = str(os.fspath(program)) if not isinstance(program, str) else program
    import shutil

    found = shutil.which(program) if os.sep not in program else program
    own = os.path.join(os.path.realpath(sys.prefix), "bin") + os.sep
    if found and os.path.realpath(os.path.dirname(found)) + os.sep == own:
        return
    if found and os.path.realpath(found) == os.path.realpath(sys.executable):
        return
    _report(b"process", program)


def _first_word(command):
    if isinstance(command, (bytes, bytearray)):
        command = os.fsdecode(bytes(command))
    words = str(command).split()
    return words[0] if words else str(command)


def _wrap_program(function, program_of):
    def wrapper(*args, **kwargs):
        try:  # noqa: SIM105 (as above)
            _note_program(program_of(args, kwargs))
        except Exception:
            pass
        return function(*args, **kwargs)

    wrapper.__name__ = getattr(function, "__name__", "wrapper")
    wrapper.__doc__ = getattr(function, "__doc__", None)
    return wrapper


def _patch_os():
    for name in ("execv", "execve", "posix_spawn", "posix_spawnp"):
        if hasattr(os, name):
            setattr(os, name, _wrap_program(getattr(os, name), lambda a, k: a[0] if a else None))
    if hasattr(os, "system"):
        os.system = _wrap_program(os.system, lambda a, k: _first_word(a[0]) if a else None)


def _patch_subprocess(module):
    original = module.Popen._execute_child

    def program(args, kwargs):
        popen_args, executable = args[1], args[2]
        if executable is not None:
            return executable
        if isinstance(popen_args, (str, bytes, bytearray)):
            return _first_word(popen_args)
        popen_args = list(popen_args)
        return popen_args[0] if popen_args else None

    module.Popen._execute_child = _wrap_program(original, program)


def _patch_socket(module):
    import _socket

    base = _socket.socket
    _real.update(
        connect=base.connect,
        connect_ex=base.connect_ex,
        sendto=base.sendto,
        send=base.send,
        sendall=base.sendall,
        getpeername=base.getpeername,
        getaddrinfo=module.getaddrinfo,
        gethostbyname=module.gethostbyname,
        gethostbyname_ex=module.gethostbyname_ex,
        gethostbyaddr=module.gethostbyaddr,
        getnameinfo=module.getnameinfo,
    )
    for name in ("connect", "connect_ex", "sendto", "send", "sendall", "getpeername"):
        setattr(module.socket, name, globals()[name])
    for name in (
        "getaddrinfo",
        "gethostbyname",
        "gethostbyname_ex",
        "gethostbyaddr",
        "getnameinfo",
    ):
        setattr(module, name, globals()[name])


def _patch_ssl(module):
    context = module.SSLContext
    _real.update(
        load_verify_locations=context.load_verify_locations,
        set_default_verify_paths=context.set_default_verify_paths,
    )
    context.load_verify_locations = load_verify_locations
    context.set_default_verify_paths = set_default_verify_paths


_PATCHES = {"socket": _patch_socket, "ssl": _patch_ssl, "subprocess": _patch_subprocess}


class _PatchingLoader:
    """Runs a module's own loader, then patches the module; the module keeps its own
    loader as ``__loader__``."""

    def __init__(self, loader, patch):
        self.loader, self.patch = loader, patch

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = self.loader
        if getattr(module, "__spec__", None) is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        self.patch(module)


class _PatchOnImport:
    """A finder first on ``sys.meta_path``: the other finders find ``socket``, ``ssl`` and
    ``subprocess``; it wraps their loader so that each is patched once loaded."""

    def find_spec(self, name, path=None, target=None):
        if name not in _PATCHES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader, _PATCHES.pop(name))
                return spec
        return None


def install():
    """Patch what is loaded already; patch the rest as it is imported."""
    _patch_os()
    for name in [name for name in _PATCHES if name in sys.modules]:
        _PATCHES.pop(name)(sys.modules[name])
    if _PATCHES:
        sys.meta_path.insert(0, _PatchOnImport())


if __name__ == "_hookdk_agent":  # as the runtime loads it; never in the kit's own process
    install()
