"""A private rsyslogd for the collector tests (``pytest -m collector``): Debian's rsyslog,
run as a child of the test with its own configuration, work folder, pid file, ports and
output files, all under the test's temporary folder. Nothing of the system's rsyslog is
read or touched, and no root is needed.

Each daemon takes TCP and TLS (gtls, a certificate from a trustme CA) on ports the
kernel picks (``port="0"``, read back from ``listenPortFileName``), at rsyslog's stock
message size (8096 bytes: nothing here sets ``maxMessageSize``). A collector writes one
JSON line per message with what rsyslog itself parsed: the RFC 5424 header, the
structured data (``mmpstrucdata``), CEF (``mmnormalize`` with liblognorm's ``cef``
type), the MSG and the raw message. A relay forwards everything to a collector with
omfwd's defaults (RSYSLOG_TraditionalForwardFormat), as a stock relay does.

Messages are read in order: rsyslog queues what each input reads, and the tests send a
marker message of their own after the hooks' (``Rsyslog.collect``) and read up to it, so
a frame cut into several messages shows as the extra messages before the marker.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import trustme

WAIT_SECONDS = 30  # the longest a start or a message may take before the test gives up
RULEBASE = "version=2\nrule=:%cef:cef%\n"  # liblognorm: a CEF record is the whole MSG


def rsyslogd_path() -> str | None:
    """rsyslogd on PATH, or where Debian puts it (/usr/sbin is not on every PATH)."""
    found = shutil.which("rsyslogd")
    if found:
        return found
    return "/usr/sbin/rsyslogd" if os.access("/usr/sbin/rsyslogd", os.X_OK) else None


@dataclass(frozen=True)
class Certificates:
    """A CA the hooks trust (SYSLOG_CA_FILE) and the collector's certificate for localhost."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    @classmethod
    def make(cls, folder: Path) -> Certificates:
        folder.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA()
        issued = ca.issue_cert("localhost", "127.0.0.1")
        found = cls(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
        ca.cert_pem.write_to_path(str(found.ca_file))
        issued.cert_chain_pems[0].write_to_path(str(found.cert_file))
        issued.private_key_pem.write_to_path(str(found.key_file))
        return found


def inputs(folder: Path, certificates: Certificates, ruleset: str) -> str:
    """A TCP and a TLS input on ports the kernel picks, written to ``<name>.port``."""
    tls = (
        'streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon" '
        f'streamDriver.caFile="{certificates.ca_file}" '
        f'streamDriver.certFile="{certificates.cert_file}" '
        f'streamDriver.keyFile="{certificates.key_file}"'
    )
    return "\n".join(
        f'input(type="imtcp" name="{name}" port="0" ruleset="{ruleset}" '
        f'listenPortFileName="{folder / name}.port" {extra})'
        for name, extra in (("tcp", ""), ("tls", tls))
    )


def collector_config(folder: Path, certificates: Certificates) -> str:
    rulebase = folder / "cef.rulebase"
    rulebase.write_text(RULEBASE)
    return f"""
global(workDirectory="{folder / "work"}")
module(load="imtcp")
module(load="mmpstrucdata")
module(load="mmnormalize")
{inputs(folder, certificates, "collect")}
template(name="timestamp" type="string" string="%timereported:::date-rfc3339%")
template(name="json" type="string" string="%$!%\\n")
ruleset(name="collect") {{
  action(type="mmpstrucdata")
  action(type="mmnormalize" rulebase="{rulebase}")
  set $!input = $inputname;
  set $!pri = $pri;
  set $!timestamp = exec_template("timestamp");
  set $!hostname = $hostname;
  set $!app = $app-name;
  set $!tag = $syslogtag;
  set $!msgid = $msgid;
  set $!msg = $msg;
  set $!raw = $rawmsg;
  action(type="omfile" file="{folder / "messages.jsonl"}" template="json")
}}
"""


def relay_config(folder: Path, certificates: Certificates, target_port: int) -> str:
    """A stock relay: what it gets, forwarded over TCP with omfwd's default template; it
    also writes what it parsed, to compare with what arrives."""
    return f"""
global(workDirectory="{folder / "work"}")
module(load="imtcp")
{inputs(folder, certificates, "relay")}
template(name="json" type="list" option.jsonf="on") {{
  property(outname="msg" name="msg" format="jsonf")
}}
ruleset(name="relay") {{
  action(type="omfile" file="{folder / "messages.jsonl"}" template="json")
  action(type="omfwd" target="127.0.0.1" port="{target_port}" protocol="tcp")
}}
"""


class Rsyslog:
    """One running rsyslogd: its ports by input name, and the messages it wrote."""

    def __init__(self, folder: Path, process: subprocess.Popen, ports: dict[str, int]) -> None:
        self.folder = folder
        self.process = process
        self.ports = ports
        self.output = folder / "messages.jsonl"
        self.markers = 0

    def messages(self) -> list[dict]:
        if not self.output.exists():
            return []
        # a message cut inside a character is written cut: read it, marked, not fail on it
        lines = self.output.read_text(encoding="utf-8", errors="replace").splitlines()
        return [json.loads(line) for line in lines]

    def stderr(self) -> str:
        return (self.folder / "stderr.txt").read_text(errors="replace")

    def collect(self, after: int = 0, via: Rsyslog | None = None) -> list[dict]:
        """The messages written from index ``after`` on, once a marker sent now has arrived
        (rsyslog keeps the order it read them in), the marker left out. The marker goes to
        this daemon's TCP port, or through ``via`` (a relay forwarding here)."""
        self.markers += 1
        marker = f"hookdk-test-marker-{self.markers}"
        message = f"<14>1 - marker test - {marker} - {marker}".encode()
        port = (via or self).ports["tcp"]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"%d %s" % (len(message), message))
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            written = self.messages()[after:]
            found = [index for index, line in enumerate(written) if marker in line.get("raw", "")]
            if found:
                return written[: found[0]]
            self._check_running()
            time.sleep(0.05)
        raise AssertionError(
            f"rsyslogd did not write {marker} in {WAIT_SECONDS} s:\n{self.stderr()}"
        )

    def _check_running(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"rsyslogd exited ({self.process.returncode}):\n{self.stderr()}")


@contextmanager
def running(folder: Path, config: str) -> Iterator[Rsyslog]:
    """rsyslogd -n (foreground) with ``config``, until the block ends: then SIGTERM, and
    the test fails unless it exits cleanly (0) within WAIT_SECONDS."""
    binary = rsyslogd_path()
    if binary is None:
        raise AssertionError(
            "rsyslogd not found: these tests need Debian's rsyslog and rsyslog-gnutls "
            "(`apt-get install rsyslog rsyslog-gnutls`; .ci/run installs them)"
        )
    (folder / "work").mkdir(parents=True, exist_ok=True)
    (folder / "rsyslog.conf").write_text(config)
    command = [binary, "-n", "-f", str(folder / "rsyslog.conf"), "-i", str(folder / "pid")]
    with open(folder / "stderr.txt", "wb") as stderr:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
            start_new_session=True,
            preexec_fn=_ends_with_its_parent,
        )
    try:
        daemon = Rsyslog(folder, process, {})
        daemon.ports = _ports(daemon, ("tcp", "tls"))
        yield daemon
    finally:
        _stop(process)
    assert process.returncode == 0, f"rsyslogd exited {process.returncode}:\n{daemon.stderr()}"


def _ports(daemon: Rsyslog, names: tuple[str, ...]) -> dict[str, int]:
    """Each input's port, once rsyslogd has written it and listens there."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        daemon._check_running()
        files = [daemon.folder / f"{name}.port" for name in names]
        texts = [path.read_text().strip() if path.exists() else "" for path in files]
        if all(text.isdigit() for text in texts):
            ports = dict(zip(names, map(int, texts), strict=True))
            if _listening(ports["tcp"]):  # a bare connection to the TLS port would be logged
                return ports
        time.sleep(0.05)
    raise AssertionError(f"rsyslogd did not listen in {WAIT_SECONDS} s:\n{daemon.stderr()}")


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _ends_with_its_parent() -> None:
    """In the child, before rsyslogd starts: SIGTERM when the test process dies, even by
    SIGKILL (Linux's parent-death signal; it lives in its own session, out of the reach
    of a signal to pytest's process group)."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise AssertionError(f"rsyslogd did not stop within {WAIT_SECONDS} s of SIGTERM") from None
