# --- CEF in an RFC 5424 syslog message ---------------------------------------------------
# The CEF record (ArcSight Common Event Format 0) is the syslog MSG, after a header and a
# structured-data element that carry the event id; octet-counted (RFC 6587 3.4.1), so a
# record never depends on line ends. No BOM before "CEF:": CEF collectors look for
# "CEF:" at the start of MSG. A key whose value is empty or null is left out, label and
# all: Debian 12's rsyslog (liblognorm 2.0.6) rejects a record ending "key=", and an
# absent key reads the same in every CEF parser.
CEF_VENDOR, CEF_PRODUCT, CEF_VERSION = "hoop.dev", "Hoop", "1.0"
SD_ID = "hoop@32473"  # 32473 is the documentation enterprise number (RFC 5612): use yours
# the longest values CEF's extension dictionary gives these keys, in characters
CEF_LENGTHS = {"suser": 1023, "destinationServiceName": 1023}
CEF_LENGTHS.update((f"cs{number}", 4000) for number in range(1, 7))


def main():
    if not SYSLOG_HOST:
        fail("SYSLOG_HOST is not set: edit it at the top of this hook or set it in the environment")
    payload = read_payload()
    message = syslog_message(payload)
    send_syslog(b"%d %s" % (len(message), message))
    via = "TLS" if SYSLOG_TLS else "TCP"
    print(f"{EVENT} {payload['id']} sent to {SYSLOG_HOST}:{SYSLOG_PORT} as CEF over {via}")


def syslog_message(payload):
    """The RFC 5424 message for this payload, in at most SYSLOG_MAX_BYTES bytes: the values
    of the FREE_TEXT keys are cut to fit, and cs6 (label "truncated") names each one cut
    with its full length, "input:60000,user_email:1200"."""
    name, severity, extension = cef_event(payload)
    pri = SYSLOG_FACILITY * 8 + (4 if severity >= 7 else 5)  # warning, else notice
    sd = f'[{SD_ID} id="{sd_value(payload["id"])}" sid="{sd_value(payload["sid"])}"]'
    header = ["CEF:0", CEF_VENDOR, CEF_PRODUCT, CEF_VERSION, EVENT, cef_header(name), str(severity)]
    start = f"<{pri}>1 {now()} {this_host()} hoop - {EVENT} {sd} " + "|".join(header) + "|"
    free = {k: plain(v) for k, _, v in extension if k in FREE_TEXT and v is not None}

    def build(values, cut):
        note = ",".join(f"{FREE_TEXT[key]}:{length}" for key, length in cut.items())
        fields = [(key, label, values.get(key, value)) for key, label, value in extension]
        fields.append(("cs6", "truncated", note))
        return start + " ".join(cef_pair(*field) for field in fields if field[2] not in (None, ""))

    return fit(build, free, cef_value, SYSLOG_MAX_BYTES, CEF_LENGTHS)


def cef_pair(key, label, value):
    """``key=value``, after ``keyLabel=label`` for a custom key (cs1, cn1...)."""
    pair = f"{key}={cef_value(value)}"
    return f"{key}Label={label} {pair}" if label else pair


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
