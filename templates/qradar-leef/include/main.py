# --- LEEF 2.0 in a syslog message, as QRadar documents it ------------------------------
# "<PRI>Mmm dd hh:mm:ss host LEEF:2.0|Vendor|Product|Version|EventID|x09|key=value<TAB>..."
# one message per line (RFC 6587 3.4.2, QRadar's TCP syslog framing). LEEF has no escape
# for its delimiter: a tab or line break in a value becomes a space.
LEEF_VENDOR, LEEF_PRODUCT, LEEF_VERSION = "hoop.dev", "Hoop", "1.0"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def main():
    if not SYSLOG_HOST:
        fail("SYSLOG_HOST is not set: edit it at the top of this hook or set it in the environment")
    payload = read_payload()
    severity, attributes = leef_event(payload)
    header = ["LEEF:2.0", LEEF_VENDOR, LEEF_PRODUCT, LEEF_VERSION, EVENT, "x09"]
    stamp = datetime.datetime.now(datetime.timezone.utc)
    attributes = [
        ("devTime", stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}+0000"),
        ("devTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSZ"),
        ("cat", EVENT),
        ("sev", severity),
    ] + attributes
    pairs = [f"{key}={leef_value(value)}" for key, value in attributes if value is not None]
    record = "|".join(header) + "|" + "\t".join(pairs)
    when = f"{MONTHS[stamp.month - 1]} {stamp.day:2d} {stamp:%H:%M:%S}"
    pri = SYSLOG_FACILITY * 8 + (4 if severity >= 7 else 5)  # warning, else notice
    send_syslog(f"<{pri}>{when} {this_host()} {record}\n".encode())
    via = "TLS" if SYSLOG_TLS else "TCP"
    print(f"{EVENT} {payload['id']} sent to {SYSLOG_HOST}:{SYSLOG_PORT} as LEEF over {via}")


def leef_value(value):
    """A LEEF attribute value: tabs and line breaks become spaces (LEEF cannot escape them)."""
    text = plain(value)
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")
