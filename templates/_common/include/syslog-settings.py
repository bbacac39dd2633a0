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
