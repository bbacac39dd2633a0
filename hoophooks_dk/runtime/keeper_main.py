"""The keeper: the parent of one hook, which knows every process the hook started.

The standard runner starts this file once, as ``python3 -I -S keeper_main.py FD`` (the
kit's own interpreter), a small server that forks a keeper per event (``serve``); the
fast runner's fork server forks its keepers itself. It uses the standard library only,
on Python 3.9 or later, because the fork server runs it in the hook's own interpreter.

Why a process between the kit and the hook:

* **Nothing escapes it** (Linux). The keeper is a child subreaper
  (``PR_SET_CHILD_SUBREAPER``): a process whose parent exits is re-parented to it rather
  than to PID 1, so a double fork or ``start_new_session=True`` still leaves the process
  below the keeper, and listing the keeper's descendants lists everything the hook
  started. A process group cannot do this: a new session leaves it.
* **It outlives the hook, not the kit.** ``FD`` is one end of a Unix socket whose other
  end only the kit holds: when the kit ends, however it ends (SIGKILL included, which no
  handler sees), the socket reads end of file and the keeper kills every process below
  it, then exits. No parent-death signal is needed (Linux ties that to the thread that
  started the process, and the kit starts hooks from short-lived threads).
* **It answers the kit**: the hook's pid and wait status, what still runs once the hook
  has ended (``pid, command``: on the agent it would keep running), and it kills
  everything below it on request.

The keeper gives up its copies of the hook's standard input, output and error as soon as
the hook has them, so the end of the hook's output is still the end of the hook's (and
its children's) output, as the agent sees it.

Protocol on ``FD``, fixed-size messages ``MESSAGE`` (``"!cqq"``, big-endian):

* keeper -> kit: ``(P, hook pid, keeper pid)`` once the hook runs; ``(X, errno, 0)`` when
  it could not be started; ``(S, hook pid, wait status)`` when it has ended, followed at
  once by ``(L, count, size)`` and ``size`` bytes of JSON ``[[pid, command], ...]``, what
  runs below then (sent again in answer to ``L``); ``(D, 0, 0)``
  in answer to ``E``, once nothing runs below the keeper.
* kit -> keeper, one byte each: ``L`` list what runs below, the hook excepted; ``K`` kill
  everything below, the hook included; ``E`` kill everything below and exit. End of file
  is ``E`` without the answer.
"""

# Only what starts fast: the C modules _signal and _socket rather than signal and socket
# (which load enum and selectors), json when there is something to list. The standard
# runner starts this file once per run, and a ``hookdk fire`` waits for it.
import _signal as signal
import _socket as socket
import os
import select
import struct
import sys

MESSAGE = struct.Struct("!cqq")
PR_SET_CHILD_SUBREAPER = 36
COMMAND_LIMIT = 300  # characters of a command line reported
INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug here, not in the hook
STOPPING = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
# Python ignores these at start-up, and an ignored signal stays ignored across exec: the
# hook gets them back at their defaults, as subprocess.Popen(restore_signals=True) does.
# The stopping signals and SIGQUIT too (``start_hook``): a kit started as a shell's
# background job inherits SIGINT and SIGQUIT ignored, and the agent's hooks have neither
# ignored, so a hook's dispositions never depend on how the kit was started.
RESTORED = tuple(
    getattr(signal, name) for name in ("SIGPIPE", "SIGXFZ", "SIGXFSZ") if hasattr(signal, name)
)


def become_subreaper():
    """Keep orphans below this process (Linux); False where the system has no such thing."""
    prctl = _prctl()
    return prctl is not None and prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


_PRCTL = []  # prctl(2) through ctypes, bound once (before forking keepers: they inherit it)


def _prctl():
    if not _PRCTL:
        function = None
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                function = ctypes.CDLL(None, use_errno=True).prctl
            except (OSError, AttributeError):
                pass
        _PRCTL.append(function)
    return _PRCTL[0]


# --- what runs below ---------------------------------------------------------------------


def _processes():
    """{pid: (parent pid, state)} of every process /proc shows; {} without /proc."""
    table = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return table
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
        except OSError:  # ended while we looked
            continue
        table[int(name)] = (int(fields[1]), fields[0])
    return table


def descendants(root, table=None):
    """The live processes below ``root`` (zombies left out: they have ended)."""
    table = _processes() if table is None else table
    children = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], list(children.get(root, ()))
    while todo:
        pid = todo.pop()
        if table[pid][1] != b"Z":
            found.append(pid)
        todo.extend(children.get(pid, ()))
    return sorted(found)


def command_of(pid):
    """A process's command line as one line (its name in brackets when it has none)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            parts = cmdline.read().split(b"\0")
    except OSError:
        return "?"
    text = " ".join(part.decode("utf-8", "replace") for part in parts if part)
    if not text:
        try:
            with open(f"/proc/{pid}/comm", "rb") as comm:
                text = "[" + comm.read().strip().decode("utf-8", "replace") + "]"
        except OSError:
            return "?"
    return text if len(text) <= COMMAND_LIMIT else text[: COMMAND_LIMIT - 1] + "…"


# --- the keeper ----------------------------------------------------------------------------


class Keeper:
    """The loop after the hook started: reap, answer the kit, end everything on request."""

    def __init__(self, channel, hook, on_lingering=None):
        self.channel = channel
        self.hook = hook
        self.on_lingering = on_lingering  # called once if the hook leaves something running
        self.status = None  # the hook's wait status once reaped
        self.stopping = False  # a signal asked the keeper itself to stop

    def serve(self):
        """Until the kit says ``E`` or goes away; returns the keeper's exit status.

        A child's end (SIGCHLD) wakes the loop through a pipe at once; so do SIGTERM,
        SIGHUP and SIGINT sent to the keeper, which end everything below it, as the
        kit's going away does."""
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        signal.signal(signal.SIGCHLD, lambda number, frame: None)
        for number in STOPPING:
            signal.signal(number, self._stop)
        signal.set_wakeup_fd(wake_w)
        self.reap()
        while True:
            ready, _, _ = select.select([self.channel, wake_r], [], [])
            if wake_r in ready:
                try:  # noqa: SIM105 (no contextlib: it is slow to import)
                    os.read(wake_r, 4096)
                except OSError:
                    pass
                self.reap()
            if self.stopping:
                self.end_all()
                return 0
            if self.channel in ready:
                try:
                    order = self.channel.recv(1)
                except OSError:
                    order = b""
                if order in (b"", b"E"):
                    self.end_all()
                    if order:
                        self.send(b"D")
                    return 0
                if order == b"L":
                    self.send_list()
                elif order == b"K":
                    self.kill_all()
                    self.reap()

    def reap(self, block=False):
        """Collect every child that has ended; report the hook's status once."""
        while True:
            try:
                pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
            except ChildProcessError:
                return False
            if pid == 0:
                return True
            if pid == self.hook and self.status is None:
                self.status = status
                self.send(b"S", pid, status)
                left = self.send_list()  # what it left, without being asked: one trip fewer
                if left and self.on_lingering is not None:
                    self.on_lingering()
            if block:
                return True

    def _stop(self, number, frame):
        self.stopping = True

    def below(self):
        """Every live process below the keeper. None at all without a child: as a
        subreaper it inherits whatever a dying parent leaves, so only a child's own
        descendants can be below it (this spares a scan of /proc on most events)."""
        if not _has_children():
            return []
        return descendants(os.getpid())

    def send(self, tag, who=0, value=0, extra=b""):
        try:  # noqa: SIM105 (no contextlib: it is slow to import)
            self.channel.sendall(MESSAGE.pack(tag, who, value) + extra)
        except OSError:  # the kit has gone: end of file comes next
            pass

    def send_list(self):
        running = [[pid, command_of(pid)] for pid in self.below() if pid != self.hook]
        data = b"[]"
        if running:
            import json

            data = json.dumps(running).encode()
        self.send(b"L", len(running), len(data), data)
        return running

    def kill_all(self):
        """SIGKILL the hook's group and every process below: a snapshot, so call again
        (``end_all`` does) for what was forked meanwhile."""
        for kill, pid in [(os.killpg, self.hook), *((os.kill, pid) for pid in self.below())]:
            try:  # noqa: SIM105 (no contextlib: it is slow to import)
                kill(pid, signal.SIGKILL)  # first the hook's own group
            except OSError:
                pass

    def end_all(self):
        """Kill and reap until no child is left: what a dying parent leaves comes here."""
        while True:
            self.kill_all()
            if not self.reap(block=True):
                return


def _has_children():
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


def start_hook(argv, cwd, env, stdin, output):
    """Fork and execute ``argv`` in a session of its own, in folder ``cwd`` with
    environment ``env``, standard input ``stdin`` and output and error ``output``, as
    ``subprocess.Popen`` would; (pid, errno or 0)."""
    report_r, report_w = os.pipe()  # closed by a successful exec: end of file
    pid = os.fork()
    if pid == 0:
        try:
            os.close(report_r)
            os.dup2(stdin, 0)
            os.dup2(output, 1)
            os.dup2(output, 2)
            os.set_inheritable(report_w, False)
            os.closerange(3, report_w)  # nothing of the keeper's but the report pipe
            os.closerange(report_w + 1, MAX_FD)
            os.chdir(cwd)
            os.setsid()  # its own session and process group, as the runners have always had
            for number in (*RESTORED, *STOPPING, signal.SIGQUIT):
                signal.signal(number, signal.SIG_DFL)
            os.execvpe(argv[0], argv, env)
        except OSError as error:
            os.write(report_w, struct.pack("!q", error.errno or 0))
        finally:
            os._exit(127)
    os.close(report_w)
    with os.fdopen(report_r, "rb") as report:
        failed = report.read(8)
    if failed:
        os.waitpid(pid, 0)
        return pid, struct.unpack("!q", failed)[0]
    return pid, 0


def let_go_of_standard_streams():
    """The hook holds stdin, stdout and stderr now; the keeper must not keep them open."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


# --- the standard runner's server: a keeper forked per event ---------------------------------

HEADER = struct.Struct("!Q")
_LENGTH = struct.Struct("!I")
MAX_FD = os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 1024


def serve(sock):
    """Fork a keeper for each request until the kit hangs up.

    A request is one byte sent with three descriptors: the hook's stdin (read end), its
    output (write end) and the keeper's end of a socket pair. The keeper reads what to run
    from that socket (``run_event``); this process only forks and reaps, so an event costs
    a fork of a small process instead of an interpreter's start."""
    _prctl()  # bound here, once, rather than in every keeper
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda number, frame: None)
    signal.set_wakeup_fd(wake_w)
    while True:
        ready, _, _ = select.select([sock, wake_r], [], [])
        if wake_r in ready:
            os.read(wake_r, 4096)
            _reap_all()
        if sock not in ready:
            continue
        data, fds = _receive_fds(sock, 3)
        if data != b"E" or len(fds) != 3:  # the kit has gone: its keepers end on their own
            return 0
        if os.fork() == 0:
            status = INTERNAL_ERROR
            try:
                sock.close()
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.close(wake_r)
                os.close(wake_w)
                status = run_event(*fds)
            finally:
                os._exit(status)
        for fd in fds:
            os.close(fd)


def _receive_fds(sock, most):
    """One byte and up to ``most`` descriptors (``socket.recv_fds``, without its module)."""
    size = socket.CMSG_LEN(most * 4)
    data, ancillary, _, _ = sock.recvmsg(1, size)
    fds = []
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            count = len(payload) // 4
            fds += struct.unpack(f"{count}i", payload[: count * 4])
    return data, fds


def _reap_all():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def run_event(stdin, output, channel_fd):
    """One keeper: read what to run, start it, keep it; the keeper's exit status."""
    channel = socket.socket(fileno=channel_fd)
    become_subreaper()
    (size,) = HEADER.unpack(_receive_exactly(channel, HEADER.size))
    items = _unframe(_receive_exactly(channel, size))
    count = int(items[0])
    argv, cwd = items[1 : 1 + count], items[1 + count]
    env = dict(zip(items[2 + count :: 2], items[3 + count :: 2]))  # noqa: B905 (3.9)
    pid, error = start_hook(argv, cwd, env, stdin, output)
    os.close(stdin)
    os.close(output)
    if error:
        channel.sendall(MESSAGE.pack(b"X", error, 0))
        return 0
    channel.sendall(MESSAGE.pack(b"P", pid, os.getpid()))
    return Keeper(channel, pid).serve()


def event_frame(argv, cwd, env):
    """What the kit writes on a keeper's socket: argv, folder and environment, as bytes."""
    items = [str(len(argv)).encode(), *map(os.fsencode, argv), os.fsencode(cwd)]
    items += [os.fsencode(part) for pair in env.items() for part in pair]
    body = b"".join(_LENGTH.pack(len(item)) + item for item in items)
    return HEADER.pack(len(body)) + body


def _unframe(data):
    items, offset = [], 0
    while offset < len(data):
        (size,) = _LENGTH.unpack_from(data, offset)
        offset += _LENGTH.size
        items.append(bytes(data[offset : offset + size]))
        offset += size
    return items


def _receive_exactly(sock, size):
    buffer = bytearray()
    while len(buffer) < size:
        chunk = sock.recv(size - len(buffer))
        if not chunk:
            raise EOFError
        buffer += chunk
    return bytes(buffer)


def main():
    sock = socket.socket(fileno=int(sys.argv[1]))
    let_go_of_standard_streams()
    return serve(sock)


if __name__ == "__main__":
    sys.exit(main())
