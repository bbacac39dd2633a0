"""The syslog-cef hooks' settings in their tests (CEF over syslog, TLS by default).

Written by `hookdk init`: conftest.py pins SETTINGS for every test; test_hoop_hooks.py
and the shared test_delivery.py read the rest. The kit's syslog receiver stands in for
SYSLOG_HOST, and its TLS certificate is issued for that name.
"""

HOST = "siem.example.test"
SETTINGS = {
    "SYSLOG_HOST": HOST,
    "SYSLOG_PORT": "6514",
    "SYSLOG_TLS": "1",
    "SYSLOG_FACILITY": "13",
    "SYSLOG_MAX_BYTES": "8096",
}
FRAMING = "octet-counting"  # RFC 6587 3.4.1: a length, a space, the message
FORMAT = "rfc5424+cef"

# fields longer than one message holds: test_delivery.py checks that such an event arrives
# within SYSLOG_MAX_BYTES, whole and readable, naming what was cut
LONG_FIELDS = {
    "session-open": {"user_email": "u" * 60_000 + "@example.com", "input": 'a="b"]\\ ' * 3000},
    "session-close": {"exit_code": 1, "output": "é=\\\n" * 8000},
}


def event_id(message):
    """A received message's idempotency key: the SIEM dedupes on it."""
    return message.cef.extension["externalId"]


def truncated(message):
    """What a received message says was cut to fit: "input:60000,user_email:1200"."""
    if message.cef.extension.get("cs6Label") != "truncated":
        return ""
    return message.cef.extension["cs6"]
