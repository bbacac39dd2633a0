# --- CEF in an RFC 5424 syslog message ---------------------------------------------------
# The CEF record (ArcSight Common Event Format 0) is the syslog MSG, after a header and a
# structured-data element that carry the event id; octet-counted (RFC 6587 3.4.1), so a
# record never depends on line ends. No BOM before "CEF:": CEF collectors look for
# "CEF:" at the start of MSG.
CEF_VENDOR, CEF_PRODUCT, CEF_VERSION = "hoop.dev", "Hoop", "1.0"
SD_ID = "hoop@32473"  # 32473 is the documentation enterprise number (RFC 5612): use yours


def main():
    if not SYSLOG_HOST:
        fail("SYSLOG_HOST is not set: edit it at the top of this hook or set it in the environment")
    payload = read_payload()
    name, severity, extension = cef_event(payload)
    record = "|".join(
        ["CEF:0", CEF_VENDOR, CEF_PRODUCT, CEF_VERSION, EVENT, cef_header(name), str(severity)]
        + [" ".join(f"{key}={cef_value(value)}" for key, value in extension if value is not None)]
    )
    sd = f'[{SD_ID} id="{sd_value(payload["id"])}" sid="{sd_value(payload["sid"])}"]'
    pri = SYSLOG_FACILITY * 8 + (4 if severity >= 7 else 5)  # warning, else notice
    message = f"<{pri}>1 {now()} {this_host()} hoop - {EVENT} {sd} {record}".encode()
    send_syslog(b"%d %s" % (len(message), message))
    via = "TLS" if SYSLOG_TLS else "TCP"
    print(f"{EVENT} {payload['id']} sent to {SYSLOG_HOST}:{SYSLOG_PORT} as CEF over {via}")


def cef_header(value):
    """A CEF header field: backslash and pipe escaped; a line break would end the record."""
    text = plain(value, keep="\t").replace("\\", "\\\\").replace("|", "\\|")
    return text.replace("\t", " ")


def cef_value(value):
    """A CEF extension value: backslash, equals sign and line breaks escaped (CEF spec)."""
    text = plain(value).replace("\\", "\\\\").replace("=", "\\=")
    return text.replace("\r", "\\r").replace("\n", "\\n")


def sd_value(value):
    """An RFC 5424 PARAM-VALUE: '"', '\\' and ']' escaped (section 6.3.3)."""
    return plain(value).replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def now():
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def epoch_ms():
    return str(int(time.time() * 1000))
