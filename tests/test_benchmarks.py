"""The benchmark script runs end to end and reports every ratio against its target.

Only the shape of the report is checked: the figures depend on the machine, and the
targets are judged by reading a full run, never by a timed assertion.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


def test_quick_benchmark_prints_every_ratio_with_its_target():
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for key, target in (("a", "<= 3x"), ("b", ">= 15x"), ("c", "<= 1.5x"), ("f", "<= 2x")):
        section = re.search(
            rf"^\({key}\) .*\n\s+ratio (\S+)x\s+target (.+?)\s+(met|MISSED)$",
            done.stdout,
            re.MULTILINE,
        )
        assert section, f"ratio ({key}) missing from:\n{done.stdout}"
        assert float(section[1]) > 0
        assert section[2] == target
    assert "(d) hookdk fire start-up" in done.stdout
    for key in ("a2", "a3"):
        info = rf"^\({key}\) .*\n\s+ratio \S+x\s+\(information\)$"
        assert re.search(info, done.stdout, re.M), f"({key}) missing from:\n{done.stdout}"
    fire = float(re.search(r"^\(a\) .*\n.*\n\s+hookdk fire\s+(\S+) ms$", done.stdout, re.M)[1])
    where = done.stdout.split("(a2) ", 1)[1].split("\n\n", 1)[0]
    parts = dict(re.findall(r"^\s{4}(\w.*?)\s+(-?[\d.]+) ms$", where, re.M))
    assert list(parts) == [
        "interpreter start",
        "import click",
        "the kit's imports",
        "capture start and stop",
        "the hook, through the runner",
        "interpreter exit",
        "the rest: options, hook, payload, report",
    ], where
    assert abs(sum(map(float, parts.values())) - fire) < 0.1  # the parts make up (a)
    watch = re.search(
        r"^\(e\) hookdk watch.*\n\s+median (\S+) ms\s+target < 100 ms\s+(met|MISSED)$",
        done.stdout,
        re.MULTILINE,
    )
    assert watch, f"watch latency (e) missing from:\n{done.stdout}"
    assert float(watch[1]) > 0
    capture_rows = [f"k-{client}" for client in ("curl", "urllib", "requests", "httpx")]
    capture_rows += ["k-http.client", "l", "m"]
    for key in capture_rows:
        section = re.search(
            rf"^\({re.escape(key)}\) .*\n\s+ratio (\S+)x\s+target (<= \S+x)\s+(met|MISSED)$",
            done.stdout,
            re.MULTILINE,
        )
        assert section, f"capture row ({key}) missing from:\n{done.stdout}"
        assert float(section[1]) > 0
    size = re.search(
        r"^\(g\) --report page of a session with 100 requests: its size\n"
        r"\s+(\S+) MB\s+target < 5 MB\s+(met|MISSED)$",
        done.stdout,
        re.MULTILINE,
    )
    assert size, f"report size (g) missing from:\n{done.stdout}"
    assert float(size[1]) > 0
    for key, target in (("g2", "1000 ms"), ("h", "1000 ms")):  # measured in the browser
        shown = re.search(
            rf"^\({key}\) .*\n\s+(\S+ ms\s+target < {target}\s+(met|MISSED)"
            r"|not measured: needs chromium.*)$",
            done.stdout,
            re.MULTILINE,
        )
        assert shown, f"({key}) missing from:\n{done.stdout}"
    crowd = re.search(
        r"^\(n\) .* ran (\d+) threads among them\n"
        r"\s+ratio (\S+)x\s+target <= 1.5x, < 100 threads\s+(met|MISSED)$",
        done.stdout,
        re.MULTILINE,
    )
    assert crowd, f"crowd row (n) missing from:\n{done.stdout}"
    assert int(crowd[1]) > 0 and float(crowd[2]) > 0
