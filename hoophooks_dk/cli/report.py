"""How ``fire``, ``session`` and ``fuzz`` report what production would do.

Beside Hoop's own record (``cli.echo_result``): the payload secrets a hook sent out, the
hint a ``check`` rule gives for a failure, and errors as JSON when the command line asked
for JSON. Only click and json are imported here: ``hookdk fire`` starts fast.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click


def leak_fails(results, options: dict[str, Any]) -> bool:
    """A leak fails the command unless ``--allow-leaks``."""
    return not options["allow_leaks"] and any(result.leaks for result in results)


def result_hints(result, options: dict[str, Any]) -> list:
    """Why a failed run failed, when a check rule or a missing setting explains it.

    ``options`` are the run options once ``cli.check_run_options`` resolved them (the
    repository's ``root``, the ``settings`` read): the result can be explained after its emulator closed,
    as ``hookdk watch`` does between saves. A run that passed without a traceback has
    none (``hints_for``'s first rule): check is not even loaded for it."""
    if result.ok and not result.run.shows_traceback:
        return []
    from ..check.hints import hints_for

    source = getattr(options.get("settings"), "source", None)
    return hints_for(result, options["root"], options.get("ref"), settings_source=source)


def result_dict(result, hints: list) -> dict[str, Any]:
    return result.to_dict() | {"hints": [hint.to_dict() for hint in hints]}


def echo_leaks(leaks, allowed: bool = False) -> None:
    """Each payload secret the hook sent: which, in what encoding, in which request."""
    if not leaks:
        return
    from ..leaks import count_secrets

    word = click.style("LEAKS", fg="red", bold=True)
    note = " (allowed by --allow-leaks)" if allowed else ""
    click.echo(f"  {word}: {count_secrets(leaks)}{note}")
    for leak in leaks:
        click.echo(f"    {leak.summary()}")
    if not allowed:
        click.echo(
            "    forward only the fields the SIEM needs: never connection_envs values or "
            "input_file (--allow-leaks to exit 0 anyway)"
        )


def echo_hints(hints) -> None:
    for hint in hints:
        click.echo(f"  {click.style('hint', fg='cyan', bold=True)}: {hint}")


def check_report_file(path) -> None:
    """Refuse a ``--report`` file before any hook runs (a folder, a file the kit did not
    write): one line, exit 2."""
    if path is not None:
        from ..report.render import check_target

        check_target(path)


def page_info(options: dict[str, Any], command: str, flow: str | None = None):
    """The run's settings as a report shows them (``options`` after ``check_run_options``)."""
    from ..report.model import run_info

    sandbox = bool(options.get("sandbox"))
    network = "live" if options["live"] else "sandboxed" if sandbox else "captured"
    return run_info(
        options["settings"],
        repo=options["root"],
        runner="subprocess" if sandbox else options["runner"],
        network=network,
        ref=options.get("ref"),
        flow=flow,
        kill_after=options.get("kill_after"),
        command=command,
    )


def write_html_report(path, runs, hints, options: dict[str, Any], command: str, flow=None) -> None:
    """``--report``: the runs (each a list of results) as one page, and a line on stderr
    saying where (stdout stays the command's own output, JSON with ``--json``)."""
    from ..report.model import report_page
    from ..report.render import write_report

    page = report_page(
        runs,
        title=command,
        info=page_info(options, command, flow),
        hints=hints,
        allow_leaks=options["allow_leaks"],
    )
    write_report(path, page)
    click.echo(f"hookdk: report written to {path}", err=True)


def echo_unmatched_routes(results, options: dict[str, Any]) -> None:
    """A ``--respond`` route that no request matched is most often a typo in its URL or
    method: say so (on stderr), with what the hooks did send. The settings file's routes
    are left alone: a table serves many runs, each sending to some of its routes only."""
    for route, sent in unmatched_routes(results, options):
        seen = f"; the hooks sent {', '.join(sent)}" if sent else "; the hooks sent nothing"
        click.echo(f"hookdk: warning: --respond '{route}' matched no request{seen}", err=True)


def unmatched_routes(results, options: dict[str, Any]) -> list[tuple[Any, list[str]]]:
    """(route, the requests sent, as "METHOD URL") for each ``--respond`` route no request
    of ``results`` matched."""
    from ..settings import parse_respond

    requests = [request for result in results for request in (result.requests or [])]
    sent = list(dict.fromkeys(f"{r.method} {r.url}" for r in requests))[:3]
    found = []
    for text in options.get("respond") or ():
        route = parse_respond(text, "--respond")
        if isinstance(route, int):
            continue  # a bare status answers everything
        if not any(route.matches(r.method, r.url) for r in requests):
            found.append((route, sent))
    return found


@contextmanager
def progress_line(
    what: str, options: dict[str, Any] | None = None, after: float = 1.0
) -> Iterator[None]:
    """While ``what`` (``"session-close hook"``) runs past ``after`` seconds, one line on
    stderr, rewritten each second and erased at the end, so a slow hook does not look
    like a hung command; with the run ``options``, it says when Hoop stops waiting. Only
    on a terminal: a pipe or a log gets nothing."""
    if not is_terminal(sys.stderr):
        yield
        return
    done, shown = threading.Event(), []
    timeout = getattr((options or {}).get("settings"), "timeout", None)
    limit = f"; Hoop stops waiting at {timeout:g} s" if timeout else ""

    def show() -> None:
        started = time.monotonic()
        tick = after
        while not done.wait(max(0.0, started + tick - time.monotonic())):
            line = f"hookdk: {what} running, {tick:.0f} s{limit} (Ctrl-C stops it)"
            click.echo(f"\r\x1b[2K{line}", nl=False, err=True)
            shown.append(True)
            tick += 1

    thread = threading.Thread(target=show, name="hookdk-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        if shown:
            click.echo("\r\x1b[2K", nl=False, err=True)


def is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def wants_json(argv: list[str] | None = None) -> bool:
    """Whether the command line asked for JSON output (read from the raw arguments, since
    the error may come before click parsed them)."""
    args = sys.argv[1:] if argv is None else argv
    if "--" in args:
        args = args[: args.index("--")]
    pairs = zip(args, [*args[1:], ""], strict=True)
    return "--json" in args or "--format=json" in args or ("--format", "json") in pairs


def fail_json(message: str, exit_code: int, **extra: Any) -> None:
    click.echo(json.dumps({"error": message, "exit_code": exit_code, **extra}, ensure_ascii=False))
    sys.exit(exit_code)


def echo_session(flow, results, captured: bool, hints, allow_leaks: bool = False) -> None:
    """A played flow (``hookdk session``, ``hookdk watch --flow``): what Hoop fires, then
    each result in the flow's order, ``hints`` holding one list per result."""
    click.echo(f"flow {flow.name}: {flow.fires}")
    for result, hint in zip(results, hints, strict=True):
        echo_result(result, captured, hint, allow_leaks)
    for note in getattr(results, "notes", ()):
        click.echo(f"note: {note}")
    if flow.steps and not flow.closes:
        click.echo(
            "no session-close: Hoop fires none for this flow (docs/hoop-runtime.md section 5)"
        )
    elif flow.steps and not any(step.event == "session-open" for step in flow.steps):
        click.echo(
            "no session-open: Hoop fires none for this flow (docs/hoop-runtime.md section 5)"
        )


def echo_result(result, captured: bool = False, hints=(), allow_leaks: bool = False) -> None:
    for warning in result.warnings:
        click.echo(f"hookdk: warning: {warning}", err=True)
    if result.timed_out:
        status = click.style("TIMED OUT", fg="red", bold=True)
    elif result.leaks and not allow_leaks:
        status = click.style("LEAKED", fg="red", bold=True)
    elif result.exit_code == 0:
        status = click.style("ok", fg="green", bold=True)
    else:
        status = click.style("FAILED", fg="red", bold=True)
    click.echo(
        f"{status} {result.event}  exit_code={result.exit_code}  "
        f"{result.duration_ms:.0f} ms (execution_time_sec={result.execution_time_sec})"
    )
    click.echo(f"  hook  {result.hook_path} ({result.origin})")
    if result.runtime is not None:
        click.echo(f"  ran   {result.runtime.describe()}; network {result.network}")
        if result.runtime.note:
            click.echo(f"  note  {result.runtime.note}")
    click.echo(f"  id    {result.id}")
    click.echo(f"  sid   {result.sid}")
    echo_output("output", result.output)
    if result.timed_out:  # the gateway stopped waiting; what the hook itself did
        click.echo(f"  the hook ran on: exit_code={result.hook_exit_code}")
        echo_output("hook output", result.hook_output)
    if captured:
        if result.requests or not result.syslog:  # a syslog-only hook: no empty HTTP line
            echo_requests(result.requests, result, syslog_on=result.syslog is not None)
        if result.syslog:
            echo_syslog(result.syslog)
        echo_sockets(result)
    else:
        live = click.style("LIVE", fg="yellow", bold=True)
        click.echo(
            f"  network: {live}: the hook reached the real network (--live); nothing captured"
        )
    echo_leaks(result.leaks, allow_leaks)
    echo_hints(hints)


def echo_output(label: str, text: str) -> None:
    if text:
        click.echo(f"  {label}:")
        for line in text.splitlines():
            click.echo(f"    {line}")
    else:
        click.echo(f"  {label}: (none)")


def echo_requests(requests, result=None, syslog_on: bool = False) -> None:
    """A delivery log, in the spirit of the one Hoop's Svix webhooks showed."""
    if not requests:
        also = ", no syslog message" if syslog_on else ""
        click.echo(f"  sent: no HTTP requests{also}")
        return
    click.echo(f"  sent: {len(requests)} request(s), answered by the local capture (none left)")
    click.echo(f"    {'#':>3}  {'METHOD':<7} {'STATUS':>6} {'BYTES':>7}  URL")
    for request in requests:
        late = (
            "  (late: after the gateway stopped waiting)"
            if result and result.is_late(request)
            else ""
        )
        click.echo(
            f"    {request.index:>3}  {request.method:<7} {request.response.status:>6} "
            f"{len(request.body):>7}  {request.url}{late}"
        )


def echo_syslog(messages) -> None:
    """The syslog messages the hook sent, one line each, after its HTTP requests."""
    click.echo(f"  syslog: {len(messages)} message(s), received by the local capture")
    click.echo(f"    {'#':>3}  {'VIA':<4} {'FORMAT':<13} {'BYTES':>7}  MESSAGE")
    for message in messages:
        shown = message.error if message.malformed else message.message
        text = " ".join((shown or "").split())
        text = text if len(text) <= 72 else text[:71] + "\u2026"
        if message.malformed:
            text = click.style(f"MALFORMED: {text}", fg="red")
        click.echo(
            f"    {message.index:>3}  {message.transport:<4} {message.format:<13} "
            f"{len(message.raw):>7}  {text}"
        )


def echo_sockets(result) -> None:
    """What went around HTTP and syslog (the agent runtime's sockets): TCP connections
    that were not HTTP, UDP datagrams, the names looked up. Nothing when there were none."""
    connections, datagrams = result.connections or [], result.datagrams or []
    if connections:
        click.echo(
            f"  connections: {len(connections)} not HTTP, answered by the local capture (none left)"
        )
        click.echo(f"    {'#':>3}  {'ADDRESS':<32} {'BYTES':>7}  {'TLS':<3}  SENT")
        for connection in connections:
            tls = "yes" if connection.tls else "no"
            click.echo(
                f"    {connection.index:>3}  {connection.address:<32} {connection.size:>7}  "
                f"{tls:<3}  {_shown(connection.data)}"
            )
    if datagrams:
        click.echo(f"  datagrams: {len(datagrams)} UDP, kept by the local capture (none left)")
        click.echo(f"    {'#':>3}  {'ADDRESS':<32} {'BYTES':>7}  SENT")
        for datagram in datagrams:
            click.echo(
                f"    {datagram.index:>3}  {datagram.address:<32} {len(datagram.data):>7}  "
                f"{_shown(datagram.data)}"
            )
    if result.dns:
        names = ", ".join(note.detail for note in result.dns)
        click.echo(f"  dns: {names} (answered locally: no query left)")


def _shown(data: bytes, width: int = 48) -> str:
    text = repr(data[: width + 1])[2:-1]
    return text if len(data) <= width else text[:width] + "\u2026"
