"""Reports a person looks at: one self-contained HTML page of a fire or a session, and a
live page of ``hookdk watch``.

* ``views``: the page model, plain data; ``model`` builds it from results
  (``report_page``, ``run_view``, ``run_info``); nothing printed.
* ``timeline``: the session's timeline as geometry (a broken time axis, lanes, marks).
* ``content``: bodies, output and payloads as a person reads them, secrets marked.
* ``render``: the model as HTML (Jinja2, autoescaped, inline CSS and SVG, no network) and
  pages written without overwriting anything a user wrote.
* ``live``: the live page's server (127.0.0.1, a per-run token, server-sent events).

The faces use it: ``hookdk fire/session --report FILE``, the pytest plugin's
``--hoop-report DIR`` and ``hookdk watch --ui``. See docs/report.md.
"""

from .. import lazy_exports

_EXPORTS = {
    "Page": "views",
    "RunInfo": "views",
    "RunView": "views",
    "TestView": "views",
    "not_run": "model",
    "report_page": "model",
    "run_info": "model",
    "run_view": "model",
    "check_target": "render",
    "index_entry": "render",
    "is_page": "render",
    "render_index": "render",
    "render_live": "render",
    "render_page": "render",
    "render_run": "render",
    "write_page": "render",
    "write_report": "render",
    "LiveServer": "live",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
