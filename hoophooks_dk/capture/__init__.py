"""The capture: everything a hook sends, answered here and recorded, none of it leaving.

One package, one idea per module (after mitmproxy's layout):

* ``capture``: ``Capture``, the face (the proxy's lifecycle, what was recorded).
* ``captured`` and ``records``: what was recorded, and the one log it is recorded in.
* ``routing``: how a request is answered (the test's routes, the settings', defaults).
* ``policy``: the proxy's decisions, pure functions; ``port_lock``: the credentials that
  lock its port, as the capture makes them; ``exchange``: what its parts share.
* ``proxy_server`` and ``proxy_connection``: listening, and HTTP/1.1 on one connection.
* ``certs``: the CA and its bounded certificate cache; ``bodies``: decoding and spooling.
* ``aws_answers``, ``token_answers``: default answers SDKs accept.
* ``syslog_receiver`` (listening), ``syslog_connection`` (one stream client),
  ``syslog_message``, ``syslog_framing``, ``syslog_formats``: syslog over UDP, TCP, TLS.
"""

from .. import lazy_exports

_EXPORTS = {
    "Capture": "capture",
    "CapturedRequest": "captured",
    "CapturedResponse": "captured",
    "CaptureFailure": "captured",
    "NO_ROUTE": "routing",
    "RecordLog": "records",
    "SyslogReceiver": "syslog_receiver",
    "SyslogMessage": "syslog_message",
    "MalformedSyslog": "syslog_formats",
    "parse_frame": "syslog_formats",
    "parse_cef": "syslog_formats",
    "parse_leef": "syslog_formats",
}
__all__ = list(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
