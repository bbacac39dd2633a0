SYSLOG_HOST = os.environ.get("SYSLOG_HOST", "")  # required: the collector's host name


def number_setting(name, text, low, high):
    """An integer setting from low to high; anything else ends the hook in one line."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        sys.exit(f"{name}={text!r} is not a whole number from {low} to {high}: check the settings")
    return int(text)


# 6514: syslog over TLS (RFC 5425)
SYSLOG_PORT = number_setting("SYSLOG_PORT", os.environ.get("SYSLOG_PORT", "6514"), 1, 65535)
SYSLOG_TLS = os.environ.get("SYSLOG_TLS", "1") != "0"  # "0": plain TCP (a trusted network only)
SYSLOG_CA_FILE = os.environ.get("SYSLOG_CA_FILE", "")  # PEM CA bundle; empty: the system's CAs
# 13: log audit (RFC 5424 6.2.1)
SYSLOG_FACILITY = number_setting("SYSLOG_FACILITY", os.environ.get("SYSLOG_FACILITY", "13"), 0, 23)
# the most bytes one message may take, as the collector counts them (the syslog header and
# the record, after escaping, in UTF-8): free text is cut to fit, and the event says so.
# 8096: what a stock rsyslog takes (its maxMessageSize); RFC 5425 receivers take 2048 at least
SYSLOG_MAX_BYTES = number_setting(
    "SYSLOG_MAX_BYTES", os.environ.get("SYSLOG_MAX_BYTES", "8096"), 2048, 1048576
)
