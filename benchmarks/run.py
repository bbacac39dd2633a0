"""Speed targets of hoophooks_dk, measured as ratios within one run.

    python benchmarks/run.py [--quick] [--json]

(a) ``hookdk fire session-close`` (the installed console script) against bare
    ``python3 < hook`` with the payload set: at most 2.5x.
(b) per-event cost of the standard runner against the fast runner, on a typical forwarder
    hook: fast at least 15x faster (and, for information, the same on a print-only hook).
(c) a hook posting one HTTPS request through the capture against the same hook not
    posting it: at most 1.5x.
(d) for information: which imports ``hookdk fire`` spends its start-up on.
(k), (l), (m) the capture under keep-alive, load and a large body: see capture_bench.py.

Each figure is a median over repeated trials, and the two sides of a ratio are measured
in alternation so that a machine getting busier slows both alike. Targets are reported
as met or missed, never asserted: the exit status is 0 unless something crashes.
Every interpreter is the real one behind ``python3`` (a pyenv shim would slow the
standard side only and flatter the ratios).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
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

from hoophooks_dk import payload as payloads
from hoophooks_dk.capture import Capture
from hoophooks_dk.emulator import PAYLOAD_VARIABLE, Emulator
from hoophooks_dk.forkserver import ForkServerRunner
from hoophooks_dk.runner import SubprocessRunner

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
    python = real_python(options.python or "python3")
    with workspace() as root:
        ratios = [
            measure_cli(root, python, settings),
            *measure_runners(python, settings),
            measure_capture(root, python, settings),
            *measure_capture_holds(options.quick, ratio_at_most, Ratio),
        ]
        imports = measure_imports(root / "trivial", python, settings)
    report = {
        "mode": "quick" if options.quick else "full",
        "python": python,
        "ratios": [asdict(ratio) for ratio in ratios],
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


def measure_cli(root: Path, python: str, settings: Settings) -> Ratio:
    repo = root / "trivial"
    hook = repo / "hoop-hooks" / "session-close.runbook.py"
    env = dict(os.environ)
    bare_env = env | {PAYLOAD_VARIABLE: close_payload(hook.read_text())}
    fire = [*hookdk_command(), "fire", "session-close", "--repo", str(repo), "--python", python]
    script = hook.read_bytes()
    cli, bare = alternate(
        settings.trials,
        lambda: run_checked(fire, env=env, cwd=repo),
        lambda: run_checked([python], env=bare_env, cwd=repo, stdin=script),
    )
    return ratio_at_most(
        "a",
        "hookdk fire session-close vs python3 < hook",
        cli,
        bare,
        2.5,
        {"hookdk fire": cli, "python3 < hook": bare},
    )


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
    standard = SubprocessRunner(python)
    with ForkServerRunner(python) as fast:
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
    runner = SubprocessRunner(python)
    with Capture() as capture:
        posting = Emulator(root / "posting", runner=runner, capture=capture)
        idle = Emulator(root / "idle", runner=runner, capture=capture)
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


# --- (d) where hookdk fire's start-up goes ----------------------------------------------

IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def measure_imports(repo: Path, python: str, settings: Settings) -> dict:
    """``hookdk fire`` under ``PYTHONPROFILEIMPORTTIME``: the import tree, best of a few runs.

    Lists every import that takes at least 2% of the total, down to four levels, in the
    order they happen, with cumulative and own milliseconds.
    """
    command = [*hookdk_command(), "fire", "session-close", "--repo", str(repo), "--python", python]
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


def alternate(
    trials: int, first: Callable[[], object], second: Callable[[], object]
) -> tuple[float, float]:
    """Median milliseconds of each callable, timed in alternation (first, second, ...).

    A callable returning a float reports its own figure in seconds (per-event costs);
    otherwise its wall time is the figure.
    """
    figures: tuple[list[float], list[float]] = ([], [])
    for _ in range(trials):
        for side, action in zip(figures, (first, second), strict=True):
            started = time.perf_counter()
            result = action()
            seconds = result if isinstance(result, float) else time.perf_counter() - started
            side.append(ms(seconds))
    return statistics.median(figures[0]), statistics.median(figures[1])


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
            f"    {name:<32} {value:10.2f} {unit}" for name, value in ratio["figures"].items()
        ]
        lines.append("")
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
