# --- the same in every syslog hook: payload, delivery over TCP or TLS, bounded retry --
# When hookdk runs this hook (its tests, hookdk fire, hookdk demo) it sets the
# HOOKDK_SYSLOG_* variables: the hook then connects to the kit's local receiver instead
# of SYSLOG_HOST:SYSLOG_PORT, still verifying the certificate for SYSLOG_HOST. Hoop's
# agent never sets them.


def read_payload():
    try:
        return json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
    except KeyError:
        fail("HOOP_RUNBOOK_HOOK_PAYLOAD is not set: Hoop sets it when it runs the hook")
    except ValueError as error:
        fail(f"HOOP_RUNBOOK_HOOK_PAYLOAD is not JSON: {error}")


def send_syslog(frame):
    """Send one framed message over TLS (or TCP when SYSLOG_TLS is off), then close.

    Failed connections and handshakes are retried, at most HOOK_ATTEMPTS times and never
    past HOOK_DEADLINE_SECONDS; a certificate that does not verify is not (a retry will
    not fix it). Syslog has no acknowledgement: over plain TCP a collector that drops the
    connection after accepting it goes unnoticed (RFC 6587), over TLS it fails the
    handshake. When every attempt failed the hook exits 1 with one line.
    """
    attempts, reason = 0, "no attempt was made"
    while attempts < HOOK_ATTEMPTS:
        if seconds_left() < 1:
            reason += " (out of time)"
            break
        attempts += 1
        try:
            send_once(frame, min(HOOK_TIMEOUT_SECONDS, seconds_left()))
            return attempts
        except ssl.SSLCertVerificationError as error:
            reason = f"certificate not trusted: {error.verify_message}"
            break
        except OSError as error:  # refused, reset, timed out, TLS handshake failed
            reason = str(error) or type(error).__name__
        if attempts < HOOK_ATTEMPTS:
            time.sleep(max(0, min(HOOK_RETRY_DELAY_SECONDS * attempts, seconds_left() - 1)))
    fail(f"delivery to {SYSLOG_HOST}:{SYSLOG_PORT} failed after {attempts} attempt(s): {reason}")


def send_once(frame, timeout):
    kit = os.environ.get("HOOKDK_SYSLOG_HOST", "")  # set by hookdk only, never on the agent
    if kit:  # the kit's receiver stands in for the collector
        name = "HOOKDK_SYSLOG_TLS_PORT" if SYSLOG_TLS else "HOOKDK_SYSLOG_TCP_PORT"
        port = os.environ.get(name, "")
        address, ca_file = (kit, int(port)), os.environ.get("HOOKDK_SYSLOG_CA_FILE", "")
    else:
        address, ca_file = (SYSLOG_HOST, SYSLOG_PORT), SYSLOG_CA_FILE
    with socket.create_connection(address, timeout=timeout) as connection:
        if not SYSLOG_TLS:
            connection.sendall(frame)
            return
        context = ssl.create_default_context(cafile=ca_file or None)
        with context.wrap_socket(connection, server_hostname=SYSLOG_HOST) as tls:
            tls.sendall(frame)
            # Close TLS properly: this also reads what the collector sent (TLS 1.3
            # session tickets). A socket closed with unread data is reset, and a reset
            # can make the collector drop the end of the message.
            try:
                tls.unwrap()
            except OSError:
                return  # the collector closed first, without its own close_notify


def seconds_left():
    return HOOK_DEADLINE_SECONDS - (time.monotonic() - STARTED)


def this_host():
    """This machine's name for the syslog header: printable ASCII, else "-"."""
    name = socket.gethostname()
    fits = 0 < len(name) <= 255 and all(33 <= ord(char) <= 126 for char in name)
    return name if fits else "-"


def plain(value, keep="\t\n\r"):
    """Text for a syslog record: control characters other than ``keep`` become U+FFFD (no
    syslog format escapes them, many collectors cut a record at a NUL, rsyslog writes them
    as #ooo), and so do lone surrogates (a JSON escape can hold one; UTF-8 cannot)."""
    text = "" if value is None else str(value)
    return "".join("\ufffd" if c not in keep and unsendable(c) else c for c in text)


def unsendable(char):
    """A C0 control character, DEL, or a lone surrogate."""
    return ord(char) < 32 or ord(char) == 127 or 0xD800 <= ord(char) <= 0xDFFF


def fail(reason):
    """Exit 1 with one line: Hoop records the exit code and this output, nothing else."""
    print(f"{EVENT} hook failed: {reason}", file=sys.stderr)
    sys.exit(1)
