"""The qradar-leef hooks' settings in their tests (LEEF 2.0 over syslog, TLS by default).

Written by `hookdk init`: conftest.py pins SETTINGS for every test; test_hoop_hooks.py
and the shared test_delivery.py read the rest. The kit's syslog receiver stands in for
SYSLOG_HOST, and its TLS certificate is issued for that name.
"""

HOST = "qradar.example.test"
SETTINGS = {"SYSLOG_HOST": HOST, "SYSLOG_PORT": "6514", "SYSLOG_TLS": "1"}
FRAMING = "non-transparent"  # one message per line (RFC 6587 3.4.2)
FORMAT = "rfc3164+leef"

# fields forwarded whole (the user's e-mail is not cut), for a message of several TLS
# records: test_delivery.py checks that it arrives whole
LONG_FIELDS = {"session-open": {"user_email": "u" * 60_000 + "@example.com"}}


def event_id(message):
    """A received message's idempotency key: QRadar dedupes on it."""
    return message.leef.attributes["hoopEventId"]
