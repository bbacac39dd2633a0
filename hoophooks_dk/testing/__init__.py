"""What tests use: the pytest plugin (``plugin``, registered through the ``pytest11``
entry point) and the plain objects behind its fixtures (``harness``: ``Siem``,
``HoopHooks``), which another framework can build without pytest."""

from .. import lazy_exports

_EXPORTS = {
    "HoopHooks": "harness",
    "Siem": "harness",
    "SiemSyslog": "harness",
}
__all__ = list(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
