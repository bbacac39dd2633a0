"""The warm half of the fast runner: one interpreter that forks a fresh hook per event.

``hoophooks_dk.runtime.forkserver.ForkServerRunner`` starts this file by path with the hook's own
``python3``. It must work there whatever that interpreter has installed, so it imports
nothing from hoophooks_dk: standard library only, Python 3.9 or later, with ctypes.

A keeper (``keeper_main``) is forked before its event arrives, and it forks the hook's
child at once, so that an event never waits for a fork. The keeper becomes the hook's
child subreaper and, once the event is there, hands the child its pipes and answers the
caller for it (its status, what it left running, ending it all). The child makes itself
look like a new ``python3 < script`` (``prepare`` while it waits, ``run_child`` once the
event is there), and it then reads and runs the script with CPython's ``PyRun_FileExFlags`` on a stdin pipe: the
parser, the compiler and the ``<stdin>`` file name are those ``python3 < script`` uses, so
syntax errors, encoding errors and tracebacks are CPython's own. What CPython's ``main``
does around that call (print an uncaught exception, honour ``SystemExit``, finalize) is
done here in Python, step for step as CPython 3.9-3.13 do it in C, except that the last
steps of finalization (tearing down every module) are skipped by ``os._exit``: that
teardown is invisible to a hook and would cost more than everything else together.

Protocol, over the unix socket whose descriptor is ``sys.argv[1]`` (integers big-endian):

- caller -> server, once: ``"!Q"`` length, then a frame of the start environment
  (key, value, key, value, ...);
- server -> caller, once: ``b"R"`` when warm;
- per event, caller -> a keeper forked ahead of time: ``b"E"`` sent with three
  descriptors, the read end of the hook's stdin pipe, the write end of its output pipe,
  and the keeper's end of a Unix socket (``keeper_main``'s protocol: the hook's status,
  what it left running, its lifeline). On that stdin the caller writes ``"!Q"`` length
  and a frame of (scratch directory, key, value, key, value, ...), then the script;
- per event, that keeper -> caller: ``MESSAGE`` (b"P", its pid, the hook's pid); when the
  keeper has ended, server -> caller: ``MESSAGE`` (b"S", its pid, its wait status). A
  keeper that ended without taking an event (killed, or a bug here) gets one too.

A frame is a run of byte strings, each prefixed by its ``"!I"`` length.
"""

import sys

# Started by path, this file's folder (the kit's package) is sys.path[0]; a script read
# from stdin gets '' there instead. Drop it before any import, so no module of the kit can
# shadow the standard library, and put '' back in each child.
_SAFE_PATH = bool(getattr(sys.flags, "safe_path", False))
if __name__ == "__main__" and not _SAFE_PATH:
    del sys.path[0]
# Whether this interpreter gives __main__ an __annotations__ dict (3.9-3.13 do). Keep
# module-level annotations out of this file: they would create one and spoil the check.
_MAIN_HAS_ANNOTATIONS = "__annotations__" in globals()

import atexit  # noqa: E402
import contextlib  # noqa: E402
import gc  # noqa: E402
import os  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import struct  # noqa: E402

# What hooks typically import, loaded once here instead of once per event. Nothing here may
# capture the environment or the working directory at import time (tempfile's directory,
# logging's start time and multiprocessing's ORIGINAL_DIR are computed on import or first
# use, so those are left out), nor register an atexit handler (concurrent.futures and
# asyncio do, so they are left out too).
PRELOAD = (
    "base64",
    "collections",
    "datetime",
    "email.utils",
    "functools",
    "gzip",
    "hashlib",
    "hmac",
    "http.client",
    "io",
    "ipaddress",
    "json",
    "pathlib",
    "random",
    "re",
    "secrets",
    "shutil",
    "socket",
    "ssl",
    "string",
    "subprocess",
    "textwrap",
    "threading",
    "time",
    "traceback",
    "typing",
    "urllib.error",
    "urllib.parse",
    "urllib.request",
    "uuid",
    "zlib",
)

FILE_INPUT = 257  # Py_file_input
INTERNAL_ERROR = 70  # a bug in this file, not in the hook (EX_SOFTWARE)

_CWD = object()  # in launcher_changes: "the working directory", the child's own

_LENGTH = struct.Struct("!I")
HEADER = struct.Struct("!Q")
# To the caller: (b"P", pid, 0) from a child that took an event, (b"S", pid, wait status)
# from the server when a child has ended.
MESSAGE = struct.Struct("!cqq")


# --- the protocol (also imported by hoophooks_dk.runtime.forkserver, the caller's side) ---------


def frame(items):
    """Length-prefixed byte strings: binary-safe for paths and environments."""
    return b"".join(_LENGTH.pack(len(item)) + item for item in items)


def unframe(data):
    items, offset = [], 0
    while offset < len(data):
        (size,) = _LENGTH.unpack_from(data, offset)
        offset += _LENGTH.size
        items.append(bytes(data[offset : offset + size]))
        offset += size
    return items


def receive_exactly(sock, size):
    """``size`` bytes from a stream socket; fewer only when the other side has gone."""
    buffer = bytearray()
    while len(buffer) < size:
        chunk = sock.recv(size - len(buffer))
        if not chunk:
            break
        buffer += chunk
    return bytes(buffer)


def pairs(items):
    return list(zip(items[0::2], items[1::2]))  # noqa: B905 (3.9 has no strict=)


# --- the server ---------------------------------------------------------------------------


class _Warm:
    """What the server learns once and every child reuses."""

    fresh_handlers = {}  # signal handlers a new interpreter has, where preloading changed one
    launcher_changes = {}  # what a launcher (pyenv's shim) did to the start environment
    launcher_order = None  # and the order it put the variables in, if it changed that
    environment = {}  # this server's own environment, which every child starts with
    run_file = None  # ctypes: PyRun_FileExFlags
    open_stdin = None  # ctypes: fdopen(0, "r")
    flush_c_stdio = None  # ctypes: fflush(NULL), as exit() would
    flags = None  # ctypes: pointer to PyCompilerFlags as pymain_run_stdin makes them
    die_with_parent = None  # ctypes: prctl(PR_SET_PDEATHSIG) where there is one
    keeper = None  # keeper_main, loaded by path (this file imports nothing of the kit's)


KEEPER_MODULE = "_hookdk_keeper"  # its name in sys.modules; children forget it


def _load_keeper():
    """``keeper_main.py``, beside this file, as a module of the server's."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keeper_main.py")
    spec = importlib.util.spec_from_file_location(KEEPER_MODULE, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[KEEPER_MODULE] = module
    spec.loader.exec_module(module)
    return module


def main():
    """Serve until the caller hangs up."""
    if not hasattr(socket, "recv_fds"):
        sys.exit(f"Python {sys.version.split()[0]} has no socket.recv_fds")
    _stand_in_for_a_hooks_interpreter()
    _Warm.keeper = _load_keeper()
    sock = socket.socket(fileno=int(sys.argv[1]))
    (size,) = HEADER.unpack(receive_exactly(sock, HEADER.size))
    start_env = dict(pairs(unframe(receive_exactly(sock, size))))
    _Warm.launcher_changes = launcher_changes(start_env, os.fsencode(os.getcwd()))
    _Warm.launcher_order = launcher_order(start_env, _Warm.launcher_changes)
    _Warm.environment = dict(os.environb)
    warm_up()
    sock.sendall(b"R")
    serve(sock)


def launcher_changes(start_env, start_cwd):
    """Variables a launcher between the caller and this interpreter set or removed.

    ``python3`` may be a wrapper (pyenv's shim is a bash script: it adds PYENV_*, prepends
    to PATH, and sets PWD and PYENV_DIR to its working directory). A hook run by the
    standard runner sees those changes on every event, so children replay them, with the
    child's own working directory wherever the launcher wrote its own (the caller starts
    this server in a directory of its own, so that value cannot be a coincidence).
    """
    changes = {key: value for key, value in os.environb.items() if start_env.get(key) != value}
    changes.update({key: None for key in start_env if key not in os.environb})
    return {key: _CWD if value == start_cwd else value for key, value in changes.items()}


def launcher_order(start_env, changes):
    """The launcher's order of variables, when it reordered them (a shell exports its own
    way); None when replaying the changes onto the caller's order gives its order."""
    replayed = dict(start_env)
    for key, value in changes.items():
        if value is None:
            del replayed[key]
        else:
            replayed[key] = value
    launched = list(os.environb)
    return None if list(replayed) == launched else {key: i for i, key in enumerate(launched)}


def _stand_in_for_a_hooks_interpreter():
    """Start as a hook's ``python3`` starts under the standard runner's keeper, which
    resets SIGINT, SIGTERM, SIGHUP and SIGQUIT to their defaults before the exec: a kit
    started as a background job (SIGINT and SIGQUIT ignored) or under nohup passes its
    ignored signals to this server, and children would inherit them."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(number, signal.SIG_DFL)


def warm_up():
    """Import what hooks use, bind the C functions children call, and freeze the heap."""
    before = {number: signal.getsignal(number) for number in signal.valid_signals()}
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:  # e.g. an interpreter built without ssl
            continue
    _Warm.fresh_handlers = {
        number: handler
        for number, handler in before.items()
        if handler is not None and signal.getsignal(number) != handler
    }
    _bind_c_functions()
    # Children never collect what exists now: no copy-on-write of the whole heap per event.
    gc.collect()
    gc.freeze()


def _bind_c_functions():
    import ctypes

    class CompilerFlags(ctypes.Structure):
        _fields_ = [("cf_flags", ctypes.c_int), ("cf_feature_version", ctypes.c_int)]

    run_file = ctypes.pythonapi.PyRun_FileExFlags
    run_file.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.py_object,
        ctypes.py_object,
        ctypes.c_int,
        ctypes.POINTER(CompilerFlags),
    ]
    run_file.restype = ctypes.py_object
    libc = ctypes.CDLL(None)
    libc.fdopen.argtypes = [ctypes.c_int, ctypes.c_char_p]
    libc.fdopen.restype = ctypes.c_void_p
    libc.fflush.argtypes = [ctypes.c_void_p]
    _Warm.run_file = run_file
    _Warm.open_stdin = lambda: libc.fdopen(0, b"r")
    _Warm.flush_c_stdio = lambda: libc.fflush(None)
    _Warm.flags = ctypes.pointer(CompilerFlags(0, sys.version_info.minor))
    _Warm.die_with_parent = _parent_death_signal(libc)


def _parent_death_signal(libc):
    """Linux can kill a waiting child when the server dies, so that a request sent to a
    dead server is never picked up by its orphan. Elsewhere the orphan checks its parent."""
    prctl = getattr(libc, "prctl", None) if sys.platform.startswith("linux") else None
    if prctl is None:
        return lambda on: None
    return lambda on: prctl(1, signal.SIGKILL if on else 0, 0, 0, 0)  # PR_SET_PDEATHSIG


# Keepers forked ahead. A replacement is forked when one ends, after its event, or when its
# hook has ended but left something running (which keeps its keeper for the rest of a
# fire, session or test); so up to STANDBY events start at once without waiting for a
# fork: three, the most one session flow fires at once.
STANDBY = 3
_PID = struct.Struct("!q")


class _Server:
    """The server's own descriptors, which its children close (``_forget_server``)."""

    taken_w = -1  # a keeper writes its pid here when it lingers (see STANDBY)
    own = ()  # what only the server reads: that pipe's other end, SIGCHLD's wake-up pipe


def serve(sock):
    """Keep keepers forked and waiting for events; report each one's wait status.

    A request is a single byte carrying three descriptors, so however many keepers wait
    on the socket, exactly one takes it, whole. A keeper that ends is replaced by a new
    fork, made after its event and while another keeper is already waiting; one whose
    hook left something running says so on a pipe and is replaced then, since it may
    live on. A keeper that dies without an event (killed) is replaced too; the caller
    hears of every end.
    """
    taken_r, _Server.taken_w = os.pipe()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    _Server.own = (taken_r, wake_r, wake_w)
    signal.signal(signal.SIGCHLD, lambda number, frame: None)
    signal.set_wakeup_fd(wake_w)
    for _ in range(STANDBY):
        _fork_standby(sock)
    replaced = set()  # keepers that linger, already replaced
    while True:
        ready, _, _ = select.select([taken_r, wake_r], [], [])
        if taken_r in ready:
            data = os.read(taken_r, _PID.size * 64)
            for at in range(0, len(data) - _PID.size + 1, _PID.size):
                replaced.add(_PID.unpack_from(data, at)[0])
                _fork_standby(sock)
        if wake_r in ready:
            os.read(wake_r, 4096)
            for pid, status in _reap_all():
                try:
                    sock.sendall(MESSAGE.pack(b"S", pid, status))
                except OSError:  # the caller has gone (waiting keepers exit on their own)
                    return
                if pid in replaced:
                    replaced.discard(pid)
                else:  # keep STANDBY waiting
                    _fork_standby(sock)


def _reap_all():
    ended = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if pid == 0:
            return ended
        ended.append((pid, status))


def _fork_standby(sock):
    pid = os.fork()  # a failed fork ends the server: the caller sees it and restarts it
    if pid == 0:
        _child(sock)  # never returns
    return pid


def _forget_server():
    """In a forked child: let go of the server's own pipes and signal handling."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for fd in _Server.own:
        os.close(fd)


def receive_request(sock):
    """The event's stdin and output descriptors and the keeper's socket; EOFError when
    the caller hung up."""
    data, fds, _, _ = socket.recv_fds(sock, 1, 3)
    if data != b"E" or len(fds) != 3:
        _close_all(fds)
        raise EOFError
    return fds


def read_event(fd):
    """The event's details, which the caller writes to stdin ahead of the script: a frame
    of (scratch directory, key, value, key, value, ...) after its ``"!Q"`` length. Read
    unbuffered, so that not one byte of the script is taken."""
    (size,) = HEADER.unpack(_read_exactly(fd, HEADER.size))
    return unframe(_read_exactly(fd, size))


def _read_exactly(fd, size):
    buffer = bytearray()
    while len(buffer) < size:
        chunk = os.read(fd, size - len(buffer))
        if not chunk:
            raise EOFError
        buffer += chunk
    return bytes(buffer)


def _close_all(fds):
    for fd in fds:
        os.close(fd)


# --- the child ----------------------------------------------------------------------------


def _child(sock):
    """The forked keeper: it forks the hook's child, waits for an event, hands the child
    its pipes, then keeps it (``keeper_main``) and ends here, never serving."""
    status = INTERNAL_ERROR
    try:
        server = os.getppid()
        _Warm.die_with_parent(True)
        if os.getppid() != server:  # the server died before the line above
            return
        _forget_server()
        _Warm.keeper.become_subreaper()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        hook = os.fork()
        if hook == 0:
            ours.close()
            sock.close()  # only the keeper answers the caller
            os.close(_Server.taken_w)
            _hook_child(theirs)  # never returns
        theirs.close()
        fds = receive_request(sock)
        _Warm.die_with_parent(False)  # from now on the event runs to its end regardless
        if os.getppid() != server:  # orphaned while waiting: the caller starts a new one
            _close_all(fds)
            return
        socket.send_fds(ours, [b"E"], fds[:2])  # the hook's child runs the event now
        sock.sendall(MESSAGE.pack(b"P", os.getpid(), hook))
        _close_all(fds[:2])
        ours.close()
        sock.close()
        channel = socket.socket(fileno=fds[2])
        _Warm.keeper.let_go_of_standard_streams()  # the server's output: its last words
        status = _Warm.keeper.Keeper(channel, hook, on_lingering=_lingering).serve()
    except EOFError:  # the caller hung up: nothing to run
        status = 0
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(status)


def _lingering():
    """Tell the server this keeper may live on (its hook left something running)."""
    os.write(_Server.taken_w, _PID.pack(os.getpid()))  # it forks a replacement now
    os.close(_Server.taken_w)


def _hook_child(pair):
    """The hook's process, forked by its keeper ahead of the event: it waits for its
    pipes, then runs the event."""
    status = INTERNAL_ERROR
    try:
        keeper = os.getppid()
        _Warm.die_with_parent(True)
        if os.getppid() != keeper:  # the keeper died before the line above
            return
        prepare()
        _, fds, _, _ = socket.recv_fds(pair, 1, 2)
        pair.close()
        if len(fds) != 2:  # the keeper went away without an event
            _close_all(fds)
            return
        _Warm.die_with_parent(False)
        status = run_child(fds)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(status)


def prepare():
    """Undo, before the event arrives, what a fork inherits that a new ``python3`` would
    not have and that does not depend on the event."""
    os.setsid()  # its own session and process group: a timeout kills all it started
    for number, handler in _Warm.fresh_handlers.items():
        signal.signal(number, handler)
    sys.modules.pop(KEEPER_MODULE, None)
    sys.argv[:] = [""]
    if hasattr(sys, "orig_argv"):
        del sys.orig_argv[1:]  # this file's path and the socket's number
    if not _SAFE_PATH:
        sys.path.insert(0, "")
    sys.modules["__main__"] = fresh_main_module()
    # Random state needs nothing here: random, tempfile and ssl reseed themselves after a
    # fork (os.register_at_fork, pid checks). str hashes keep the server's seed: no fork
    # can change that.


def run_child(fds):
    """Take the event's pipes, folder and environment, run the hook, return the status."""
    stdin_fd, output_fd = fds
    os.dup2(stdin_fd, 0)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    _close_all(fds)
    items = read_event(0)
    os.chdir(items[0])
    set_environment(launched_environment(pairs(items[1:]), items[0]))
    import time

    time.tzset()  # time and datetime read TZ at import; this event's TZ may differ
    return run_stdin(sys.modules["__main__"].__dict__)


def set_environment(items):
    """Make os.environ, and the C environment subprocesses inherit, exactly ``items``.

    Usually only the payload differs from the server's own environment: then only the
    values that differ are set, in place, which keeps the order the same as a rebuild.
    """
    environ = os.environb  # shares its data with os.environ; putenv/unsetenv reach C too
    inherited = _Warm.environment
    if list(inherited) == [key for key, _ in items]:
        for key, value in items:
            if inherited[key] != value:
                environ[key] = value
        return
    for key in list(environ):
        del environ[key]
    for key, value in items:
        environ[key] = value


def launched_environment(env, cwd):
    """The event's environment as the launcher would have handed it to python3."""
    merged = dict(env)
    for key, value in _Warm.launcher_changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = cwd if value is _CWD else value
    order = _Warm.launcher_order
    if order is None:
        return list(merged.items())
    return sorted(merged.items(), key=lambda item: order.get(item[0], len(order)))


def fresh_main_module():
    """``__main__`` as CPython creates it before running stdin (same keys, same order)."""
    main = type(sys)("__main__")
    main.__loader__ = sys.modules["builtins"].__loader__  # BuiltinImporter
    if _MAIN_HAS_ANNOTATIONS:
        main.__annotations__ = {}
    main.__builtins__ = sys.modules["builtins"]
    return main


def run_stdin(namespace):
    """``_PyRun_SimpleFileObject`` for ``<stdin>``, then ``Py_RunMain``'s ending."""
    namespace["__file__"] = "<stdin>"
    namespace["__cached__"] = None
    error = run_file(namespace)
    flush_io()
    if error is None:
        _forget_file(namespace)
        return finalize(0)
    if isinstance(error, SystemExit):
        return finalize(system_exit_status(error))  # __file__ is still set, as in CPython
    status = print_uncaught(error)
    if status is not None:  # the excepthook itself raised SystemExit
        return finalize(status)
    _forget_file(namespace)
    status = finalize(1)
    if isinstance(error, KeyboardInterrupt):
        _die_by_sigint()
    return status


def run_file(namespace):
    """Parse, compile and run fd 0 as ``<stdin>``; return what it raised, if anything.

    The exception is returned, not handled in an ``except`` block, so that nothing raised
    later (by an excepthook, an atexit handler) gets it as its ``__context__``.
    """
    try:
        _Warm.run_file(
            _Warm.open_stdin(), b"<stdin>", FILE_INPUT, namespace, namespace, 0, _Warm.flags
        )
    except BaseException as error:
        error.__traceback__ = error.__traceback__.tb_next  # drop this frame: <module> is first
        return error
    return None


def _forget_file(namespace):
    namespace.pop("__file__", None)
    namespace.pop("__cached__", None)


def flush_io():
    """CPython flushes stderr then stdout after running the file, before any traceback."""
    for name in ("stderr", "stdout"):
        with contextlib.suppress(Exception):
            getattr(sys, name).flush()


def system_exit_status(error):
    """``_Py_HandleSystemExit``: None is 0, an int is its low byte, anything else is
    printed to stderr and is 1."""
    code = getattr(error, "code", error)
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF if -(2**63) <= code < 2**63 else 0xFF  # C long, then exit()
    try:
        sys.stderr.write(str(code))
        sys.stderr.write("\n")
    except Exception:
        pass
    return 1


def print_uncaught(error):
    """``PyErr_Print``: remember it in sys.last_*, then call sys.excepthook.

    Returns an exit status only when the excepthook raised SystemExit.
    """
    trace = error.__traceback__
    sys.last_type, sys.last_value, sys.last_traceback = type(error), error, trace
    if sys.version_info >= (3, 12):
        sys.last_exc = error
    hook = getattr(sys, "excepthook", None)
    if hook is None:
        sys.stderr.write("sys.excepthook is missing\n")
        sys.__excepthook__(type(error), error, trace)
        return None
    try:
        hook(type(error), error, trace)
    except SystemExit as exit_error:
        return system_exit_status(exit_error)
    except BaseException as hook_error:
        hook_error.__traceback__ = hook_error.__traceback__.tb_next
        flush_io()
        sys.stderr.write("Error in sys.excepthook:\n")
        sys.__excepthook__(type(hook_error), hook_error, hook_error.__traceback__)
        sys.stderr.write("\nOriginal exception was:\n")
        sys.__excepthook__(type(error), error, trace)
    return None


def finalize(status):
    """``Py_FinalizeEx`` as far as a hook can see it: join non-daemon threads, run atexit
    handlers, flush stdio (a failed flush exits 120), collect garbage, clear the hook's
    globals so their ``__del__`` runs, flush again, and flush C stdio as ``exit()`` does."""
    threading = sys.modules.get("threading")
    if threading is not None:
        try:
            threading._shutdown()
        except BaseException as error:
            _write_unraisable(error, threading)
    atexit._run_exitfuncs()
    flushed = flush_std_files()
    gc.collect()
    for name in ("stdin", "stdout", "stderr"):  # as finalize_modules_delete_special does
        setattr(sys, name, getattr(sys, f"__{name}__"))
    _clear_module_dict(sys.modules["__main__"].__dict__)
    gc.collect()
    flushed = flush_std_files() and flushed
    _Warm.flush_c_stdio()
    return status if flushed else 120


def flush_std_files():
    """``flush_std_files``: False when sys.stdout or sys.stderr failed to flush."""
    ok = True
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name, None)
        if stream is None or _is_closed(stream):
            continue
        try:
            stream.flush()
        except Exception as error:
            if name == "stdout":
                _write_unraisable(error, stream)
            ok = False
    return ok


def _is_closed(stream):
    try:
        return bool(stream.closed)
    except Exception:
        return False


def _clear_module_dict(namespace):
    """``_PyModule_ClearDict``: names with one leading underscore first, then the rest."""
    for name in list(namespace):
        if isinstance(name, str) and name.startswith("_") and not name.startswith("__"):
            namespace[name] = None
    for name in list(namespace):
        if name != "__builtins__":
            namespace[name] = None


def _write_unraisable(error, obj):
    """The default ``sys.unraisablehook`` output, for the rare errors CPython reports so."""
    import traceback

    try:
        sys.stderr.write(f"Exception ignored in: {obj!r}\n")
        traceback.print_exception(type(error), error, error.__traceback__)
    except Exception:
        pass


def _die_by_sigint():
    """``exit_sigint``: after an uncaught KeyboardInterrupt CPython kills itself by SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)


if __name__ == "__main__":
    main()
