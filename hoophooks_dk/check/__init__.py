"""``hookdk check``: find what Hoop would silently drop, before you push.

In production a broken hook fails without a word: Hoop skips both hooks when either
file does not load, runs only what is committed and pushed on one branch, and feeds the
script to ``python3`` on stdin, where ``__file__``, ``sys.argv``, stdin and sibling files
are not what the author expects (docs/hoop-runtime.md sections 1 to 3). Each rule finds
one such failure and says how to fix it.

Rules have stable ids, one module per family: HK1xx ``layout`` (the files), HK2xx
``template`` (Hoop's template step), HK3xx ``python`` (the Python that runs), HK4xx
``git`` (what Hoop reads), HK5xx ``run`` (a real run of each hook). A rule is one
function registered with ``@rule(id, severity, title)`` (``registry``); ``check``
(``checker``) runs the families in order and returns the findings sorted. Nothing here prints:
``cli.check`` formats.
"""

from .. import lazy_exports

_EXPORTS = {
    "RULES": "registry",
    "SEVERITIES": "registry",
    "Finding": "registry",
    "Problem": "registry",
    "Rule": "registry",
    "Severity": "registry",
    "rule": "registry",
    "Layout": "layout",
    "Script": "python",
    "check_python": "python",
    "silent_traceback": "run",
    "template_fails": "template",
    "check": "checker",
    "exit_code": "checker",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
