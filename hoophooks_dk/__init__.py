"""hoophooks_dk: build and test Hoop runbook hooks before you push them.

The package is a small core (payload, hooks, render, runner, emulator, capture) with two
thin faces over it: the ``hookdk`` command line and a pytest plugin. The names a user
needs are declared here, once, in ``__all__``, and imported from the package root::

    from hoophooks_dk import Capture, Emulator, HookdkError

Each is loaded on first use (module ``__getattr__``), so ``import hoophooks_dk`` and the
``hookdk`` command pay only for what they touch. Modules whose names start with an
underscore are internals.
"""

TYPE_CHECKING = False  # not typing's: importing typing would slow down every start

__version__ = "0.1.0"

#: Public name -> the module that defines it ("" : the name is that module itself).
_EXPORTS: dict[str, str] = {
    # firing hooks as Hoop does
    "Emulator": "emulator",
    "FireResult": "emulator",
    "build_payload": "emulator",
    "RunResult": "runtime.runner",
    "Runner": "runtime.runner",
    "SubprocessRunner": "runtime.runner",
    "make_runner": "wiring",
    # sessions as Hoop fires them
    "Flow": "flows",
    "FLOWS": "flows",
    "SessionResult": "sessions",
    # the capture
    "Capture": "capture.capture",
    "CaptureFailure": "capture.captured",
    "CapturedRequest": "capture.captured",
    "CapturedResponse": "capture.captured",
    # syslog: the receiver, what it records, the parsers
    "SyslogReceiver": "capture.syslog_receiver",
    "SyslogMessage": "capture.syslog_receiver",
    "SiemSyslog": "testing.harness",
    "MalformedSyslog": "capture.syslog_formats",
    "parse_frame": "capture.syslog_formats",
    "parse_cef": "capture.syslog_formats",
    "parse_leef": "capture.syslog_formats",
    # leaks
    "Leak": "leaks",
    "find_leaks": "leaks",
    "assert_no_leaks": "leaks",
    # what the pytest fixtures hand out
    "HoopHooks": "testing.harness",
    "Siem": "testing.harness",
    # fuzzing
    "FuzzReport": "fuzz",
    "strategies": "",
    # check (the functions check, fuzz and render stay in their modules: the package's
    # attribute of that name is the submodule once it is imported)
    "Finding": "check",
    # Hoop's template step
    "render_runbook": "runbook_template",
    # errors, all under HookdkError
    "HookdkError": "errors",
    "PayloadError": "errors",
    "HookNotFound": "errors",
    "SettingsError": "errors",
    "CaptureError": "errors",
    "CaptureNotStarted": "errors",
    "TemplateError": "errors",
    "RenderFailed": "errors",
    "HooksNotLoaded": "errors",
    "HoopFinding": "errors",
    "GatewayCrash": "errors",
}

__all__ = [
    "__version__",
    "Emulator",
    "FireResult",
    "build_payload",
    "RunResult",
    "Runner",
    "SubprocessRunner",
    "make_runner",
    "Flow",
    "FLOWS",
    "SessionResult",
    "Capture",
    "CaptureFailure",
    "CapturedRequest",
    "CapturedResponse",
    "SyslogReceiver",
    "SyslogMessage",
    "SiemSyslog",
    "MalformedSyslog",
    "parse_frame",
    "parse_cef",
    "parse_leef",
    "Leak",
    "find_leaks",
    "assert_no_leaks",
    "HoopHooks",
    "Siem",
    "FuzzReport",
    "strategies",
    "Finding",
    "render_runbook",
    "HookdkError",
    "PayloadError",
    "HookNotFound",
    "SettingsError",
    "CaptureError",
    "CaptureNotStarted",
    "TemplateError",
    "RenderFailed",
    "HooksNotLoaded",
    "HoopFinding",
    "GatewayCrash",
]


def lazy_exports(package: str, exports: dict[str, str], namespace: dict) -> "Any":
    """A module ``__getattr__`` (PEP 562) for ``package``: the first use of a name in
    ``exports`` imports the module behind it (a submodule of ``package``; "" means the
    name is that submodule) and keeps the name in ``namespace``. Every package of the kit
    is a face built this way, so importing it costs nothing until a name is used."""

    def __getattr__(name: str) -> "Any":
        from importlib import import_module

        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if module == "":
            value = import_module(f".{name}", package)
        else:
            value = getattr(import_module(f".{module}", package), name)
        namespace[name] = value
        return value

    return __getattr__


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # what type checkers and IDEs see: the same names, imported eagerly
    from typing import Any

    from . import strategies
    from .capture.capture import Capture, CapturedRequest, CapturedResponse, CaptureFailure
    from .capture.syslog_formats import MalformedSyslog, parse_cef, parse_frame, parse_leef
    from .capture.syslog_receiver import SyslogMessage, SyslogReceiver
    from .check import Finding
    from .emulator import Emulator, FireResult, build_payload
    from .errors import (
        CaptureError,
        CaptureNotStarted,
        GatewayCrash,
        HookdkError,
        HookNotFound,
        HooksNotLoaded,
        HoopFinding,
        PayloadError,
        RenderFailed,
        SettingsError,
        TemplateError,
    )
    from .flows import FLOWS, Flow
    from .fuzz import FuzzReport
    from .leaks import Leak, assert_no_leaks, find_leaks
    from .runbook_template import render_runbook
    from .runtime.runner import Runner, RunResult, SubprocessRunner
    from .sessions import SessionResult
    from .testing.harness import HoopHooks, Siem, SiemSyslog
    from .wiring import make_runner
