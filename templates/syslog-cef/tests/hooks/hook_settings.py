"""The syslog-cef hooks' settings in their tests (CEF over syslog, TLS by default).

Written by `hookdk init`: conftest.py pins SETTINGS for every test; test_hoop_hooks.py
and the shared test_delivery.py read the rest. The kit's syslog receiver stands in for
SYSLOG_HOST, and its TLS certificate is issued for that name.
"""

HOST = "siem.example.test"
SETTINGS = {"SYSLOG_HOST": HOST, "SYSLOG_PORT": "6514", "SYSLOG_TLS": "1"}
FRAMING = "octet-counting"  # RFC 6587 3.4.1: a length, a space, the message
FORMAT = "rfc5424+cef"

# fields forwarded whole (the user's e-mail is not cut), for a message of several TLS
# records: test_delivery.py checks that it arrives whole
LONG_FIELDS = {"session-open": {"user_email": "u" * 60_000 + "@example.com"}}


def event_id(message):
    """A received message's idempotency key: the SIEM dedupes on it."""
    return message.cef.extension["externalId"]
