"""Scaffolding: ``hookdk init`` (``init``: a template's hooks, tests and CI written into a
runbooks repository) and ``hookdk demo`` (``demo``: a throwaway repository, one reviewed
session fired through it)."""

from .. import lazy_exports

_EXPORTS = {
    "init": "init",
    "templates": "init",
    "get_template": "init",
    "Template": "init",
    "DEFAULT_TEMPLATE": "init",
    "CI_CHOICES": "init",
    "CI_FILES": "init",
    "run_demo": "demo",
    "DemoRun": "demo",
}
__all__ = list(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
