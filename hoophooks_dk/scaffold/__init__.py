"""Scaffolding: ``hookdk init`` (``hookdk init``: a template's hooks, tests and CI written into a
runbooks repository, by ``writer``) and ``hookdk demo`` (``demo``: a throwaway repository, one reviewed
session fired through it)."""

from .. import lazy_exports

_EXPORTS = {
    "init": "writer",
    "templates": "writer",
    "get_template": "writer",
    "Template": "writer",
    "DEFAULT_TEMPLATE": "writer",
    "CI_CHOICES": "writer",
    "CI_FILES": "writer",
    "run_demo": "demo",
    "DemoRun": "demo",
}
__all__ = list(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
