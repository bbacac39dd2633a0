"""Speed targets of hoophooks_dk, measured as ratios within one run.

    python benchmarks/run.py [--quick] [--json]

(a) ``hookdk fire session-close`` (the installed console script, capturing, with the
    syslog receiver, hooks in the agent runtime unless ``--python``: the defaults) against
    bare ``python3 < hook`` with the payload set: at most 3x.
(b) per-event cost of the standard runner against the fast runner, on a typical forwarder
    hook: fast at least 15x faster (and, for information, the same on a print-only hook).
(c) a hook posting one HTTPS request through the capture against the same hook not
    posting it: at most 1.5x.
(a2) for information: where (a) goes, each part timed in alternation with (a) itself:
    the kit's interpreter starting, importing click, the kit's imports (every module
    ``hookdk fire`` loads), the capture's start and stop, the hook run through the runner
    in the capture's environment, the interpreter's exit, and the rest (options and
    settings, reading the hook, the payload, the report: (a) less the parts). The ratio
    is the floor click sets: start + click + bare, against bare.
(a3) for information: ``hookdk fire`` against ``hookdk fire --live``: the capture's share.
(d) for information: which imports ``hookdk fire`` spends its start-up on.
(e) ``hookdk watch``: from writing the hook file to the printed result, median: under
    100 ms.
(f) per-example cost of ``fuzz`` (``hookdk fuzz session-close``, capturing) on the
    siem-http template against one fast-runner fire of the same hook with the capture:
    at most 2x.
(k), (l), (m) the capture under keep-alive, load and a large body: see capture_bench.py.
(g), (g2), (h) the HTML report of a 1,000-request session (size, render time in headless
    Chromium) and the live page of ``hookdk watch --ui``: see report_bench.py.

Each figure is a median over repeated trials, and the two sides of a ratio are measured
in alternation so that a machine getting busier slows both alike. Targets are reported
as met or missed, never asserted: the exit status is 0 unless something crashes.
Every interpreter is the real one behind ``python3`` (a pyenv shim would slow the
standard side only and flatter the ratios). The kit is byte-compiled first, as an
installed wheel is: with PYTHONDONTWRITEBYTECODE set, an editable install would
otherwise compile its modules from source at every start of ``hookdk``.
"""

from __future__ import annotations

import argparse
import compileall
import json
import operator
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from capture_bench import measure_capture_holds  # noqa: E402 (beside this script)
from report_bench import measure_live, measure_report
from report_bench import render as render_figures

import hoophooks_dk
from hoophooks_dk import payload as payloads
from hoophooks_dk.emulator import Emulator
from hoophooks_dk.payload import PAYLOAD_VARIABLE
from hoophooks_dk.settings import RunSettings
from hoophooks_dk.wiring import make_emulator, make_runner, open_capture, run, runtime_for

TRIVIAL_HOOK = """\
import json, os
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
print(payload["id"])
"""

# The same forwarder twice: SEND decides whether the request goes out. Both import the
# same modules and build the same request, so the difference is the HTTPS round trip.
FORWARDER_HOOK = """\
import json, os, urllib.request
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
body = json.dumps({"id": payload["id"], "sid": payload["sid"]}).encode()
request = urllib.request.Request(
    "https://siem.example.com/ingest", data=body, headers={"Content-Type": "application/json"}
)
SEND = True
if SEND:
    urllib.request.urlopen(request, timeout=10).read()
print("sent" if SEND else "idle")
"""
IDLE_HOOK = FORWARDER_HOOK.replace("SEND = True", "SEND = False")


@dataclass
class Settings:
    trials: int  # (a) and (c): timed pairs
    event_trials: int  # (b): batches per runner
    events_per_trial: int  # (b): events per batch
    import_runs: int  # (d)


FULL = Settings(trials=15, event_trials=5, events_per_trial=40, import_runs=3)
QUICK = Settings(trials=3, event_trials=2, events_per_trial=5, import_runs=1)


@dataclass
class Ratio:
    key: str
    title: str
    ratio: float
    target: str  # e.g. "<= 2.5x", or "info"
    met: bool | None  # None for information only
    figures: dict[str, float] = field(default_factory=dict)  # milliseconds
    unit: str = "ms"  # of the figures


def main(argv: list[str] | None = None) -> int:
    options = parse_arguments(argv)
    settings = QUICK if options.quick else FULL
    # By default hooks run in the agent runtime, as every face runs them: ``python`` is then
    # its interpreter, and the commands measured name no --python (AGENT_RUNTIME below).
    if options.python:
        python = real_python(options.python)
    else:
        python = runtime_for(
            None, lambda line: print(f"agent runtime: {line}", file=sys.stderr)
        ).python
        AGENT_RUNTIME.add(python)
    compileall.compile_dir(Path(hoophooks_dk.__file__).parent, quiet=1)
    with workspace() as root:
        ratios = [
            *measure_cli(root, python, settings),
            measure_capture_share(root, python, settings),
            *measure_runners(python, settings),
            measure_capture(root, python, settings),
            measure_fuzz(root, python, settings),
            *measure_capture_holds(options.quick, ratio_at_most, Ratio),
        ]
        imports = measure_imports(root / "trivial", python, settings)
        latencies = [measure_watch(root, python, settings)]
        figures = [
            *measure_report(root, python, options.quick, make_repo),
            measure_live(root, python, options.quick, make_repo, hookdk_command),
        ]
    report = {
        "mode": "quick" if options.quick else "full",
        "python": python,
        "ratios": [asdict(ratio) for ratio in ratios],
        "latencies": [asdict(latency) for latency in latencies],
        "figures": [asdict(figure) for figure in figures],
        "imports": imports,
    }
    print(json.dumps(report, indent=2) if options.json else render(report))
    return 0


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Few trials (test-suite smoke run).")
    parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
    parser.add_argument(
        "--python", help="Interpreter that runs the hooks [default: the one behind python3]."
    )
    return parser.parse_args(argv)


#: The agent runtime's interpreter, when the hooks run in it (the default).
AGENT_RUNTIME: set[str] = set()


def python_options(python: str) -> list[str]:
    """What a measured command line says for ``python``: nothing for the agent runtime."""
    return [] if python in AGENT_RUNTIME else ["--python", python]


def chosen_python(python: str) -> str | None:
    """``python`` as the wiring takes it: None for the agent runtime."""
    return None if python in AGENT_RUNTIME else python


def real_python(python: str) -> str:
    """The executable ``python`` resolves to, past any launcher script."""
    found = subprocess.run(
        [python, "-c", "import sys; print(sys.executable)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return found.stdout.strip()


# --- (a) the command line against bare python3 -----------------------------------------


def measure_cli(root: Path, python: str, settings: Settings) -> list[Ratio]:
    """(a), and (a2) where it goes: ``hookdk fire``, bare ``python3 < hook``, the kit's
    interpreter doing nothing, and ``STAGES`` (the parts of a fire in one process of the
    kit's interpreter, with the clock read as it starts and before it exits), all four
    timed in alternation, so that the parts and the whole come from the same moments."""
    repo = root / "trivial"
    hook = repo / "hoop-hooks" / "session-close.runbook.py"
    env = dict(os.environ)
    bare_env = env | {PAYLOAD_VARIABLE: close_payload(hook.read_text())}
    fire = [
        *hookdk_command(),
        "fire",
        "session-close",
        "--repo",
        str(repo),
        *python_options(python),
    ]
    script = hook.read_bytes()
    kit_python = str(Path(sys.executable))  # the interpreter behind the hookdk script
    staged = [kit_python, "-c", STAGES, chosen_python(python) or "", str(hook)]
    staged += kit_modules(repo, python)
    # the floor is the machine's own python3, whatever interpreter the kit runs hooks with
    bare_python = real_python("python3") if python in AGENT_RUNTIME else python
    stages: list[dict[str, float]] = []

    def run_stages() -> None:
        spawned = time.time()
        done = subprocess.run(staged, env=bare_env, cwd=repo, capture_output=True, text=True)
        ended = time.time()
        if done.returncode != 0:
            raise RuntimeError(f"the stages of a fire failed: {done.stderr[-500:]}")
        clock = json.loads(done.stdout)  # time.time() after each step
        steps = [spawned, *clock.values(), ended]
        names = ["start", *list(clock)[1:], "exit"]  # each step, by the clock that ends it
        took = dict(zip(names, map(operator.sub, steps[1:], steps[:-1]), strict=True))
        stages.append(
            {
                "start": took["start"],
                "click": took["click"],
                "imports": took["imports"],
                "capture": took["capture"] + took["stopped"],
                "hook": took["hook"],
                "exit": took["exit"],
            }
        )

    cli, bare, _, start = alternate(
        settings.trials,
        lambda: run_checked(fire, env=env, cwd=repo),
        lambda: run_checked([bare_python], env=bare_env, cwd=repo, stdin=script),
        run_stages,
        lambda: run_checked([kit_python, "-c", "pass"], env=env, cwd=repo),
    )
    part = {name: statistics.median(ms(one[name]) for one in stages) for name in stages[0]}
    parts = {
        "interpreter start": part["start"],
        "import click": part["click"],
        "the kit's imports": part["imports"],
        "capture start and stop": part["capture"],
        "the hook, through the runner": part["hook"],
        "interpreter exit": part["exit"],
    }
    parts["the rest: options, hook, payload, report"] = cli - sum(parts.values())
    floor = start + part["click"] + bare
    return [
        ratio_at_most(
            "a",
            "hookdk fire session-close vs python3 < hook",
            cli,
            bare,
            3,
            {"hookdk fire": cli, "python3 < hook": bare},
        ),
        Ratio(
            "a2",
            "where (a) goes, in parts timed with it; ratio: start + click + python3 < hook "
            "(the floor), vs python3 < hook",
            floor / bare,
            "info",
            None,
            parts
            | {
                "(the hook alone: python3 < hook)": bare,
                "(the kit's interpreter, -c pass)": start,
            },
        ),
    ]


#: The parts of a ``hookdk fire`` whose hook sends nothing, in one process of the kit's
#: interpreter (argv: the hooks' interpreter, "" for the agent runtime, the hook file, then
#: the kit's modules a fire loads): click, the kit's imports, the capture as the command
#: line opens it (syslog receiver included, the client's own ports handed out), the hook
#: run by the subprocess runner in the capture's environment as the emulator runs it, the
#: capture's stop, and at exit what ``hookdk`` does at exit. Prints ``time.time()`` at its
#: first line and after each part, as JSON, so that start and exit are timed too.
STAGES = """
import time
first = time.time()
import os, sys
python, hook, modules = sys.argv[1], sys.argv[2], sys.argv[3:]
import click
clicked = time.time()
for module in modules:
    __import__(module)
imported = time.time()
from hoophooks_dk.cli.app import spare_last_collection
from hoophooks_dk.settings import RunSettings
from hoophooks_dk.wiring import make_runner, open_capture
spare_last_collection()
settings = RunSettings(python=python or None)  # "": the agent runtime
with open(hook, "rb") as file:
    script = file.read()
with open_capture(settings) as capture:
    env = dict(os.environ) | capture.environ(client="stages")
    captured = time.time()
    runner = make_runner("subprocess", python or None, capture=capture)
    run = runner.run(script, runner.runtime.environ(env), 15.0)
    assert run.exit_code == 0, run.output
    ran = time.time()
    capture.wait_idle()
stopped = time.time()
print(f'{{"first": {first!r}, "click": {clicked!r}, "imports": {imported!r}, '
      f'"capture": {captured!r}, "hook": {ran!r}, "stopped": {stopped!r}}}')
"""


def kit_modules(repo: Path, python: str) -> list[str]:
    """The kit's modules ``hookdk fire`` loads on a hook that sends nothing, in order."""
    command = [
        *hookdk_command(),
        "fire",
        "session-close",
        "--repo",
        str(repo),
        *python_options(python),
    ]
    env = dict(os.environ) | {"PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=repo)
    names = [match[4] for match in IMPORT_LINE.finditer(done.stderr)]
    return [name for name in names if name.split(".")[0] == "hoophooks_dk"]


def hookdk_command() -> list[str]:
    """The installed console script beside this interpreter, as a user runs it."""
    script = shutil.which("hookdk", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "hoophooks_dk"]


def close_payload(hook_source: str) -> str:
    built = payloads.complete(
        payloads.synthetic("session-close"), "session-close", input_file=hook_source
    )
    return payloads.hoop_json(built)


# --- (b) the standard runner against the fast runner ------------------------------------


def measure_runners(python: str, settings: Settings) -> list[Ratio]:
    """The target on a typical forwarder (its imports are what the fast runner preloads);
    for information, the same on a hook that only prints, where preloading saves nothing."""
    standard = make_runner("subprocess", chosen_python(python))
    with make_runner("fast", chosen_python(python)) as fast:
        started = time.perf_counter()
        check_run(fast.run(b"pass", dict(os.environ), 15), "fast runner")
        warm_up = ms(time.perf_counter() - started)
        forwarder = compare_runners(standard, fast, IDLE_HOOK, settings)
        printer = compare_runners(standard, fast, TRIVIAL_HOOK, settings)
    events = settings.event_trials * settings.events_per_trial
    target = ratio_at_least(
        "b",
        f"standard vs fast runner, per event, forwarder hook ({events} events each)",
        *forwarder,
        15,
        {
            "standard runner per event": forwarder[0],
            "fast runner per event": forwarder[1],
            "fast runner warm-up (once)": warm_up,
        },
    )
    info = Ratio(
        "b2",
        f"standard vs fast runner, per event, print-only hook ({events} events each)",
        printer[0] / printer[1],
        "info",
        None,
        {"standard runner per event": printer[0], "fast runner per event": printer[1]},
    )
    return [target, info]


def compare_runners(standard, fast, hook: str, settings: Settings) -> tuple[float, float]:
    """Median milliseconds per event of each runner on ``hook``, with a realistic payload."""
    event = payloads.complete(payloads.synthetic("session-open"), "session-open", input_file=hook)
    env = dict(os.environ) | {PAYLOAD_VARIABLE: payloads.hoop_json(event)}
    script = hook.encode()
    return alternate(
        settings.event_trials,
        lambda: run_events(standard, script, env, settings.events_per_trial),
        lambda: run_events(fast, script, env, settings.events_per_trial),
    )


def run_events(runner, script: bytes, env: dict[str, str], count: int) -> float:
    """Seconds per event over ``count`` events."""
    started = time.perf_counter()
    for _ in range(count):
        check_run(runner.run(script, env, 15), type(runner).__name__)
    return (time.perf_counter() - started) / count


# --- (c) one HTTPS request through the capture ------------------------------------------


def measure_capture(root: Path, python: str, settings: Settings) -> Ratio:
    run_settings = RunSettings(python=chosen_python(python))  # the wiring every face uses
    runner = make_runner("subprocess", chosen_python(python))
    with open_capture(run_settings, syslog=False) as capture:
        posting = make_emulator(root / "posting", run_settings, runner, capture)
        idle = make_emulator(root / "idle", run_settings, runner, capture)
        fire_checked(posting, requests=1)  # the capture's first leaf certificate, once
        post, rest = alternate(
            settings.trials,
            lambda: fire_checked(posting, requests=1),
            lambda: fire_checked(idle, requests=0),
        )
    return ratio_at_most(
        "c",
        "hook posting one HTTPS request via the capture vs the same hook not posting",
        post,
        rest,
        1.5,
        {"posting hook": post, "same hook, not posting": rest},
    )


def fire_checked(emulator: Emulator, requests: int) -> None:
    result = emulator.fire("session-close")
    check_run(result.run, "capture hook")
    if len(result.requests) != requests:
        raise RuntimeError(f"expected {requests} captured request(s), got {len(result.requests)}")


def measure_capture_share(root: Path, python: str, settings: Settings) -> Ratio:
    """``hookdk fire`` (capturing, the default) against ``hookdk fire --live`` on a hook
    that sends nothing: what starting the capture (its imports, its CA) adds to (a)."""
    repo = root / "trivial"
    fire = [
        *hookdk_command(),
        "fire",
        "session-close",
        "--repo",
        str(repo),
        *python_options(python),
    ]
    env = dict(os.environ)
    captured, live = alternate(
        settings.trials,
        lambda: run_checked(fire, env=env, cwd=repo),
        lambda: run_checked([*fire, "--live"], env=env, cwd=repo),
    )
    return Ratio(
        "a3",
        "the capture's share of (a): hookdk fire vs hookdk fire --live, hook sending nothing",
        captured / live,
        "info",
        None,
        {"hookdk fire (capturing)": captured, "hookdk fire --live": live},
    )


# --- (e) hookdk watch: save to printed result -------------------------------------------

WATCH_TARGET_MS = 100.0
WATCH_WAIT = 30.0  # seconds for one run to be printed before the benchmark gives up


@dataclass
class Latency:
    key: str
    title: str
    median: float  # milliseconds
    target: float  # milliseconds
    met: bool
    figures: dict[str, float] = field(default_factory=dict)  # milliseconds


def measure_watch(root: Path, python: str, settings: Settings) -> Latency:
    """``hookdk watch --json`` on a trivial hook: the time from writing the hook file to
    the run's line arriving on the watch's stdout, over a series of saves."""
    repo = root / "watched"
    make_repo(repo, TRIVIAL_HOOK)
    hook = repo / "hoop-hooks" / "session-close.runbook.py"
    command = [*hookdk_command(), "watch", "--json", "--repo", str(repo), *python_options(python)]
    latencies = []
    watch = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=repo)
    try:
        lines = LineReader(watch.stdout.fileno())
        check_watch_run(lines.next(WATCH_WAIT), "the run at start")
        for number in range(settings.trials * 2):
            time.sleep(0.1)  # well past the watch's batching: one save, one run
            text = f"{TRIVIAL_HOOK}# save {number}\n"
            started = time.perf_counter()
            hook.write_text(text)
            run = lines.next(WATCH_WAIT)
            latencies.append(ms(time.perf_counter() - started))
            check_watch_run(run, f"save {number}")
    finally:
        watch.send_signal(signal.SIGINT)
        try:
            watch.wait(timeout=WATCH_WAIT)
        except subprocess.TimeoutExpired:
            watch.kill()
            watch.wait()
    median = statistics.median(latencies)
    return Latency(
        "e",
        f"hookdk watch: hook file written to result printed ({len(latencies)} saves)",
        median,
        WATCH_TARGET_MS,
        median < WATCH_TARGET_MS,
        {"median": median, "fastest": min(latencies), "slowest": max(latencies)},
    )


class LineReader:
    """Lines from a pipe, each waited for at most a given time (a hung watch must not hang
    the benchmark)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""

    def next(self, seconds: float) -> bytes:
        deadline = time.monotonic() + seconds
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
                raise RuntimeError(f"hookdk watch printed nothing for {seconds:.0f} s")
            data = os.read(self.fd, 65536)
            if not data:
                raise RuntimeError("hookdk watch exited")
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line


def check_watch_run(line: bytes, what: str) -> None:
    run = json.loads(line)
    if not run["ok"]:
        raise RuntimeError(f"hookdk watch, {what}: the run failed: {run}")


# --- (f) fuzzing against firing ---------------------------------------------------------


def measure_fuzz(root: Path, python: str, settings: Settings) -> Ratio:
    """siem-http's session-close hook, fast runner, one capture: the cost of one fuzz
    example (payload drawn, fired, judged; Hypothesis's engine included) against one
    ``Emulator.fire`` of the synthetic payload. Each fuzz trial uses a new seed."""
    from hypothesis.configuration import set_hypothesis_home_dir

    from hoophooks_dk.fuzz import fuzz
    from hoophooks_dk.scaffold.writer import init

    set_hypothesis_home_dir(root / "hypothesis")  # not ./.hypothesis wherever this runs
    repo = root / "siem-http"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    init(repo, "siem-http", tests=False, ci="none")
    env = dict(os.environ) | {"SIEM_TOKEN": "benchmark-token"}
    examples = settings.events_per_trial * 5
    seeds = iter(range(1_000_000))
    hooks = RunSettings(python=chosen_python(python))
    with run(repo, hooks, runner="fast", syslog=False, env=env) as emulator:
        fire_checked(emulator, requests=1)  # warm server, first leaf certificate
        started = time.perf_counter()
        fuzz(emulator, "session-close", examples=1, seed=0)
        first_run = ms(time.perf_counter() - started)  # Hypothesis's tables, empty cache

        def fires() -> float:
            started = time.perf_counter()
            for _ in range(examples):
                fire_checked(emulator, requests=1)
            return (time.perf_counter() - started) / examples

        def fuzzing() -> float:
            started = time.perf_counter()
            report = fuzz(emulator, "session-close", examples=examples, seed=next(seeds))
            if not report.ok:
                raise RuntimeError(f"fuzzing siem-http failed: {report.describe()}")
            return (time.perf_counter() - started) / report.tried

        per_example, per_fire = alternate(settings.event_trials, fuzzing, fires)
    return ratio_at_most(
        "f",
        f"fuzz example vs fast-runner fire, siem-http session-close with capture "
        f"({examples} each, {settings.event_trials} trials)",
        per_example,
        per_fire,
        2,
        {
            "fuzz, per example": per_example,
            "fire, per event": per_fire,
            "first fuzz, empty cache (once)": first_run,
        },
    )


# --- (d) where hookdk fire's start-up goes ----------------------------------------------

IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def measure_imports(repo: Path, python: str, settings: Settings) -> dict:
    """``hookdk fire`` under ``PYTHONPROFILEIMPORTTIME``: the import tree, best of a few runs.

    Lists every import that takes at least 2% of the total, down to four levels, in the
    order they happen, with cumulative and own milliseconds.
    """
    command = [
        *hookdk_command(),
        "fire",
        "session-close",
        "--repo",
        str(repo),
        *python_options(python),
    ]
    env = dict(os.environ) | {"PYTHONPROFILEIMPORTTIME": "1"}
    best: dict[str, tuple[int, int]] = {}  # name: (own, cumulative) microseconds
    order: list[tuple[int, str]] = []
    walls = []
    for _ in range(settings.import_runs):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=repo)
        walls.append(ms(time.perf_counter() - started))
        for match in IMPORT_LINE.finditer(done.stderr):
            own, total, name = int(match[1]), int(match[2]), match[4]
            if name not in best:
                order.append((len(match[3]) // 2, name))
            if name not in best or total < best[name][1]:
                best[name] = (own, total)
    total = sum(own for own, _ in best.values())
    tree = [
        [depth, name, best[name][1] / 1000, best[name][0] / 1000]
        for depth, name in order
        if depth <= 3 and best[name][1] >= 0.02 * total
    ]
    return {"wall_ms": statistics.median(walls), "imports_ms": total / 1000, "tree": tree}


# --- measuring ------------------------------------------------------------------------


def alternate(trials: int, *actions: Callable[[], object]) -> tuple[float, ...]:
    """Median milliseconds of each callable, timed in alternation (first, second, ...,
    first, second, ...).

    A callable returning a float reports its own figure in seconds (per-event costs);
    otherwise its wall time is the figure.
    """
    figures: list[list[float]] = [[] for _ in actions]
    for _ in range(trials):
        for side, action in zip(figures, actions, strict=True):
            started = time.perf_counter()
            result = action()
            seconds = result if isinstance(result, float) else time.perf_counter() - started
            side.append(ms(seconds))
    return tuple(statistics.median(side) for side in figures)


def ratio_at_most(key, title, slow, fast, limit, figures) -> Ratio:
    ratio = slow / fast
    return Ratio(key, title, ratio, f"<= {limit}x", ratio <= limit, figures)


def ratio_at_least(key, title, slow, fast, limit, figures) -> Ratio:
    ratio = slow / fast
    return Ratio(key, title, ratio, f">= {limit}x", ratio >= limit, figures)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def run_checked(argv: list[str], *, env, cwd: Path, stdin: bytes | None = None) -> None:
    done = subprocess.run(argv, input=stdin, env=env, cwd=cwd, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited {done.returncode}: {done.stderr.decode()[-500:]}")


def check_run(result, what: str) -> None:
    if result.exit_code != 0:
        raise RuntimeError(f"{what}: hook exited {result.exit_code}: {result.output[-500:]}")


# --- throwaway runbooks repositories -----------------------------------------------------


@contextmanager
def workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="hookdk-bench-") as folder:
        root = Path(folder)
        make_repo(root / "trivial", TRIVIAL_HOOK)
        make_repo(root / "posting", FORWARDER_HOOK)
        make_repo(root / "idle", IDLE_HOOK)
        yield root


def make_repo(path: Path, hook: str) -> None:
    """A committed runbooks repo with both hooks, as Hoop wants them."""
    hooks = path / "hoop-hooks"
    hooks.mkdir(parents=True)
    for event in ("session-open", "session-close"):
        (hooks / f"{event}.runbook.py").write_text(hook)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    for step in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "hooks"]):
        subprocess.run([*git, *step], cwd=path, check=True, capture_output=True)


# --- the report ---------------------------------------------------------------------------


def render(report: dict) -> str:
    lines = [f"hoophooks_dk benchmarks ({report['mode']}; hooks run by {report['python']})", ""]
    for ratio in report["ratios"]:
        verdict = {True: "met", False: "MISSED", None: ""}[ratio["met"]]
        target = "(information)" if ratio["met"] is None else f"target {ratio['target']}"
        lines.append(
            f"({ratio['key']}) {ratio['title']}\n"
            f"    ratio {ratio['ratio']:.2f}x    {target}    {verdict}".rstrip()
        )
        unit = ratio.get("unit", "ms")
        lines += [
            f"    {name:<42} {value:10.2f} {unit}" for name, value in ratio["figures"].items()
        ]
        lines.append("")
    for latency in report["latencies"]:
        verdict = "met" if latency["met"] else "MISSED"
        lines.append(
            f"({latency['key']}) {latency['title']}\n"
            f"    median {latency['median']:.1f} ms    target < {latency['target']:g} ms    "
            f"{verdict}"
        )
        lines += [f"    {name:<42} {value:10.2f} ms" for name, value in latency["figures"].items()]
        lines.append("")
    lines += render_figures(report["figures"])
    imports = report["imports"]
    lines.append(
        f"(d) hookdk fire start-up (information): {imports['wall_ms']:.0f} ms wall, "
        f"{imports['imports_ms']:.0f} ms of it importing; imports of 2% or more "
        "(cumulative ms, own ms):"
    )
    for depth, name, total, own in imports["tree"]:
        lines.append(f"      {'  ' * depth + name:<40} {total:7.1f} {own:7.1f}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
