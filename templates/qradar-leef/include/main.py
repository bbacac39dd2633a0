# --- LEEF 2.0 in an RFC 5424 syslog message, as QRadar documents it ---------------------
# "<PRI>1 TIMESTAMP HOST hoop - EVENTID - LEEF:2.0|Vendor|Product|Version|EventID|^|k=v^k=v"
# one message per line (RFC 6587 3.4.2, QRadar's TCP syslog framing). The attributes are
# separated by "^", which the LEEF 2.0 header declares, not by LEEF 1.0's tab: a relay
# such as a stock rsyslog writes a tab as "#011". The header's APP-NAME (hoop) keeps
# "LEEF:" at the start of the message part: after a bare host name a relay takes "LEEF:"
# for the syslog tag. LEEF has no escape: a "^", tab or line break in a value becomes a
# space.
LEEF_VENDOR, LEEF_PRODUCT, LEEF_VERSION = "hoop.dev", "Hoop", "1.0"
DELIMITER = "^"


def main():
    if not SYSLOG_HOST:
        fail("SYSLOG_HOST is not set: edit it at the top of this hook or set it in the environment")
    payload = read_payload()
    send_syslog(syslog_message(payload) + b"\n")
    via = "TLS" if SYSLOG_TLS else "TCP"
    print(f"{EVENT} {payload['id']} sent to {SYSLOG_HOST}:{SYSLOG_PORT} as LEEF over {via}")


def syslog_message(payload):
    """The RFC 5424 message for this payload, in at most SYSLOG_MAX_BYTES bytes: the values
    of the FREE_TEXT keys are cut to fit, and "truncated" names each one cut with its full
    length, "input:60000,user_email:1200"."""
    severity, attributes = leef_event(payload)
    stamp = datetime.datetime.now(datetime.timezone.utc)
    attributes = [
        ("devTime", stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}+0000"),
        ("devTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSZ"),
        ("cat", EVENT),
        ("sev", severity),
    ] + attributes
    timestamp = stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    pri = SYSLOG_FACILITY * 8 + (4 if severity >= 7 else 5)  # warning, else notice
    header = ["LEEF:2.0", LEEF_VENDOR, LEEF_PRODUCT, LEEF_VERSION, EVENT, DELIMITER]
    start = f"<{pri}>1 {timestamp} {this_host()} hoop - {EVENT} - " + "|".join(header) + "|"
    free = {k: plain(v) for k, v in attributes if k in FREE_TEXT and v is not None}

    def build(values, cut):
        note = ",".join(f"{FREE_TEXT[key]}:{length}" for key, length in cut.items())
        pairs = [(key, values.get(key, value)) for key, value in attributes]
        pairs += [("truncated", note)] if note else []
        return start + DELIMITER.join(
            f"{key}={leef_value(value)}" for key, value in pairs if value is not None
        )

    return fit(build, free, leef_value, SYSLOG_MAX_BYTES)


def leef_value(value):
    """A LEEF attribute value: the delimiter, tabs and line breaks become spaces (LEEF
    cannot escape them)."""
    text = plain(value)
    for char in DELIMITER + "\t\r\n":
        text = text.replace(char, " ")
    return text
