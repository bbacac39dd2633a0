"""Run (HK5xx): each hook fired once with a synthetic payload, against the capture.

The hooks run as Hoop runs them (the emulator), and every request they make is answered
by the local capture, so nothing leaves the machine. Each rule takes one ``FireResult``
and the ``HookFile`` it came from.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..hooks import HookFile, read_hooks
from .layout import too_large_for_environment, too_large_problem
from .python import Script, dotted
from .registry import Finding, Problem, family_rules, rule
from .template import show

if TYPE_CHECKING:
    from ..emulator import FireResult
    from ..settings import RunSettings


def check_dynamic(
    repo: Path, ref: str | None, events: list[str], settings: RunSettings
) -> list[Finding]:
    """Fire each present hook once, as Hoop would and as ``hookdk fire`` would with the
    same ``settings`` (``wiring.run``), with the capture standing in for the SIEM: every
    request is answered locally, none leaves the machine, as the settings' ``respond``
    says; a hook that fails on the answer its SIEM gives is a finding."""
    from ..errors import PayloadError
    from ..wiring import run

    found = []
    # a timeout is all the check needs to know: the hook is ended there
    with run(repo, settings, ref=ref, kill_after=settings.timeout) as emulator:
        hooks = read_hooks(repo, ref)
        for event in events:
            hook = hooks[event]
            try:
                result = emulator.fire(event)
            except PayloadError as error:  # near HK107's limit, a payload may tip over it
                problem = too_large_problem(hook, detail=str(error))
                found.append(too_large_for_environment.finding(problem))
                continue
            found += [f for each in family_rules("run") for f in each(result, hook)]
    return [_name_missing_setting(f, settings.source) for f in found]


def _name_missing_setting(f: Finding, settings_source: str | None) -> Finding:
    """HK501 for a hook that stopped on a missing setting: the fix is to give it."""
    if f.rule != "HK501":
        return f
    from .hints import missing_setting

    hint = missing_setting(f.message, settings_source)
    if hint is None:
        return f
    return Finding(f.rule, f.severity, f.message, hint.fix, f.file, f.line)


@rule("HK501", "error", "hook crashes")
def crashes(result: FireResult, hook: HookFile) -> list[Problem]:
    """HK501: a non-zero exit is only logged by Hoop; the event never reaches the SIEM."""
    if result.timed_out or result.exit_code == 0:
        return []
    last = _last_line(result)
    return [
        _at_traceback(
            result,
            hook,
            f"{result.event} exits {result.exit_code} on a synthetic payload"
            + (f": {last}" if last else ""),
            f"run `hookdk fire {result.event}` to see the whole output",
        )
    ]


@rule("HK502", "error", "hook times out")
def times_out(result: FireResult, hook: HookFile) -> list[Problem]:
    """HK502: past 15 s the gateway stops waiting and records exit code -2."""
    if not result.timed_out:
        return []
    return [
        Problem(
            f"{result.event} did not finish within {result.timeout:g} s "
            "(Hoop waits 15 s, then records exit code -2; the hook runs on unseen)",
            "set short timeouts on every network call (e.g. timeout=5) and avoid retries loops",
            file=hook.path,
        )
    ]


@rule("HK503", "error", "hook sends the connection's secrets out")
def leaks_secrets(result: FireResult, hook: HookFile) -> list[Problem]:
    """HK503: ``connection_envs`` holds the connection's credentials."""
    return _leak_problems(result, hook, lambda label: label != "input_file")


@rule("HK504", "error", "hook sends its own source out")
def leaks_source(result: FireResult, hook: HookFile) -> list[Problem]:
    """HK504: ``input_file`` is the hook's own source (it may hold tokens or URLs)."""
    return _leak_problems(result, hook, lambda label: label == "input_file")


@rule("HK505", "warning", "hook prints a traceback but exits 0")
def silent_traceback(result: FireResult, hook: HookFile) -> list[Problem]:
    """HK505: a swallowed exception is a failure Hoop records as success. A traceback the
    hook only copied from the payload (a session's error output) is not the hook's: the
    same test as ``hookdk fuzz`` (``fuzz.own_traceback``)."""
    if result.exit_code != 0 or result.timed_out or _TRACEBACK not in result.run.raw_output:
        return []
    from ..fuzz import own_traceback  # imports Hypothesis: only when a traceback is there

    output = result.run.raw_output.decode("utf-8", "replace")
    traceback = own_traceback(output, result.payload)
    if traceback is None:
        return []
    exception = show(traceback.splitlines()[-1].encode(), 160)
    return [
        _at_traceback(
            result,
            hook,
            f"{result.event} prints a traceback but exits 0: Hoop records success: {exception}",
            "let the exception propagate (or sys.exit(1)) so the failure shows in Hoop's log",
            traceback.encode(),
        )
    ]


def _leak_problems(result: FireResult, hook: HookFile, wanted) -> list[Problem]:
    by_label: dict[str, list] = {}
    for leak in result.leaks:  # found by the emulator, in every request the hook made
        if wanted(leak.label):
            by_label.setdefault(leak.label, []).append(leak)
    found = []
    line = _sending_line(result, hook) if by_label else None
    for label, group in by_label.items():
        first = group[0]
        more = f" (and {len(group) - 1} more place(s))" if len(group) > 1 else ""
        what = "its own source (input_file)" if label == "input_file" else f"payload {label}"
        found.append(
            Problem(
                f"{result.event} sends {what} ({first.form}) in the {first.where} of "
                f"{_sent_as(first.request)}{more}",
                "forward only the fields the SIEM needs; drop connection_envs and input_file",
                file=hook.path,
                line=line,
            )
        )
    return found


def _sent_as(sent) -> str:
    """An HTTP request as ``METHOD URL``, a syslog message as ``syslog message #N (tcp)``."""
    if hasattr(sent, "method"):
        return f"{sent.method} {sent.url}"
    return f"syslog message #{sent.index} ({sent.transport})"


# Calls that send a request: urllib, http.client, requests, httpx, sockets, or a curl/wget
# process. The first one in the script is where a leak most likely leaves.
_SENDERS = {"urlopen", "post", "put", "patch", "request", "send", "sendall", "stream"}
_PROCESS_CALLS = {"run", "Popen", "call", "check_call", "check_output", "system"}
_HTTP_TOOLS = {"curl", "wget"}


def _sending_line(result: FireResult, hook: HookFile) -> int | None:
    """The source line of the script's first call that sends a request, if one is found."""
    rendered = str(result.payload.get("input_file", "")).encode("utf-8", "surrogateescape")
    try:
        tree = ast.parse(rendered or hook.source, "<stdin>")
    except (SyntaxError, ValueError):
        return None
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else dotted(func)
        if name in _SENDERS or (name in _PROCESS_CALLS and _runs_http_tool(node)):
            lines.append(node.lineno)
    if not lines:
        return None
    return Script(hook, rendered or hook.source, frozenset()).line(min(lines))


def _runs_http_tool(call: ast.Call) -> bool:
    return any(
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.split(" ", 1)[0] in _HTTP_TOOLS
        for node in ast.walk(call)
    )


_TRACEBACK = b"Traceback (most recent call last):"
_TRACEBACK_LINE = re.compile(rb'File "<stdin>", line (\d+)')


def _last_line(result: FireResult) -> str:
    lines = [line for line in result.run.raw_output.splitlines() if line.strip()]
    return show(lines[-1], 160) if lines else ""


def _at_traceback(
    result: FireResult,
    hook: HookFile,
    message: str,
    fix: str,
    traceback: bytes | None = None,
) -> Problem:
    """A problem on the source line of the deepest ``<stdin>`` frame, if there is one
    (in ``traceback`` when given, else in the whole output)."""
    frames = _TRACEBACK_LINE.findall(result.run.raw_output if traceback is None else traceback)
    line = None
    if frames:
        rendered = str(result.payload.get("input_file", "")).encode()
        script = Script(hook, rendered or hook.source, frozenset())
        line = script.line(int(frames[-1]))
    return Problem(message, fix, file=hook.path, line=line)
