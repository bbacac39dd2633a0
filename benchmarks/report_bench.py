"""Report figures for ``run.py``, measured in the browser the tests use (headless
Chromium through Selenium and chromium-driver).

(g)  the size of the ``--report`` page of one exec session whose two hooks send 1,000
     requests between them (500 each, requests over a kept-alive connection through
     the capture): under 5 MB.
(g2) the time that page takes to render: from the start of the navigation to the first
     frame painted after the load event (``performance.now()`` two animation frames
     after ``load``), median over a few loads: under 1 s.
(h)  ``hookdk watch --ui``: from writing the hook file to the new run shown on the live
     page (a MutationObserver in the page sees its section arrive), median over a
     series of saves: under 1 s.

With ``--quick`` the session sends 100 requests and the figures say so. Without
chromium, chromedriver or Selenium the browser figures are reported as not measured.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hoophooks_dk.report.model import report_page, run_info
from hoophooks_dk.report.render import write_report
from hoophooks_dk.settings import RunSettings
from hoophooks_dk.wiring import run

SIZE_TARGET_MB = 5.0
RENDER_TARGET_MS = 1000.0
LIVE_TARGET_MS = 1000.0
WAIT = 60.0  # seconds for anything to show up before the benchmark gives up

SENDER = """\
import json, os, requests
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
event = "open" if payload["event_session_open"] else "close"
with requests.Session() as session:
    for number in range({count}):
        body = {{"sid": payload["sid"], "event": event, "n": number, "user": "alice@example.com"}}
        session.post("https://siem.example.com/ingest", json=body, timeout=30).raise_for_status()
print(event, "sent", {count})
"""


@dataclass
class Figure:
    key: str
    title: str
    value: float | None  # None: not measured (``note`` says why)
    unit: str
    target: float
    met: bool | None
    figures: dict[str, float] = field(default_factory=dict)
    note: str = ""


def measure_report(root: Path, python: str, quick: bool, make_repo) -> list[Figure]:
    """(g) and (g2): the page of a session of 1,000 requests (100 with ``quick``)."""
    requests = 100 if quick else 1000
    repo = root / "report-session"
    make_repo(repo, SENDER.format(count=requests // 2))
    settings = RunSettings(python=python)
    with run(repo, settings, runner="fast", syslog=False) as emulator:
        session = emulator.session("exec")
    sent = sum(len(result.requests) for result in session)
    if sent != requests or not session.ok:
        raise RuntimeError(f"the report session sent {sent} of {requests} requests")
    page = root / "report.html"
    info = run_info(settings, repo=repo, runner="fast", network="captured", flow="exec")
    started = time.perf_counter()
    write_report(page, report_page([session], title="benchmark session", info=info))
    written = (time.perf_counter() - started) * 1000
    size_mb = page.stat().st_size / 1_000_000
    size = Figure(
        "g",
        f"--report page of a session with {requests:,} requests: its size",
        round(size_mb, 3),
        "MB",
        SIZE_TARGET_MB,
        size_mb < SIZE_TARGET_MB,
        {"built and written in (ms)": round(written, 1)},
    )
    title = f"--report page of a session with {requests:,} requests: rendered in the browser"
    with browser() as driver:
        if driver is None:
            return [size, not_measured("g2", title, RENDER_TARGET_MS, "ms")]
        loads = [render_ms(driver, page) for _ in range(3 if quick else 7)]
    median = statistics.median(loads)
    render = Figure(
        "g2",
        title,
        round(median, 1),
        "ms",
        RENDER_TARGET_MS,
        median < RENDER_TARGET_MS,
        {"fastest": round(min(loads), 1), "slowest": round(max(loads), 1)},
    )
    return [size, render]


def render_ms(driver, page: Path) -> float:
    """Milliseconds from navigation start to the first frame after ``load``."""
    driver.get("about:blank")
    driver.get(page.as_uri())  # returns once the page has loaded
    return driver.execute_async_script(
        "const done = arguments[0];"
        "requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now())));"
    )


WAIT_FOR_RUN = """
const [number, done] = arguments;
const shown = () => document.querySelector(`#runs > section[data-run="${number}"]`);
if (shown()) { done(true); return; }
new MutationObserver((_, observer) => {
  if (shown()) { observer.disconnect(); done(true); }
}).observe(document.getElementById("runs"), {childList: true});
"""


def measure_live(root: Path, python: str, quick: bool, make_repo, hookdk_command) -> Figure:
    """(h): save to shown on ``hookdk watch --ui``'s page."""
    title = "hookdk watch --ui: hook file written to the run shown on the live page"
    repo = root / "live"
    make_repo(repo, "print('hello')\n")
    hook = repo / "hoop-hooks" / "session-close.runbook.py"
    command = [*hookdk_command(), "watch", "--ui", "--repo", str(repo), "--python", python]
    with browser() as driver:
        if driver is None:
            return not_measured("h", title, LIVE_TARGET_MS, "ms")
        driver.set_script_timeout(WAIT)
        watch = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            driver.get(live_url(watch))
            driver.execute_async_script(WAIT_FOR_RUN, 1)
            latencies = []
            for number in range(2, (4 if quick else 16) + 2):
                time.sleep(0.1)  # past the watch's batching: one save, one run
                started = time.perf_counter()
                hook.write_text(f"print('hello')\n# save {number}\n")
                driver.execute_async_script(WAIT_FOR_RUN, number)
                latencies.append((time.perf_counter() - started) * 1000)
        finally:
            watch.send_signal(signal.SIGINT)
            try:
                watch.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                watch.kill()
                watch.wait()
    median = statistics.median(latencies)
    return Figure(
        "h",
        f"{title} ({len(latencies)} saves)",
        round(median, 1),
        "ms",
        LIVE_TARGET_MS,
        median < LIVE_TARGET_MS,
        {"fastest": round(min(latencies), 1), "slowest": round(max(latencies), 1)},
    )


def live_url(watch: subprocess.Popen) -> str:
    """The address ``hookdk watch --ui`` prints on stderr (waited for at most ``WAIT``)."""
    deadline = time.monotonic() + WAIT
    seen = b""
    while b"live page at " not in seen:
        left = deadline - time.monotonic()
        ready = left > 0 and select.select([watch.stderr], [], [], left)[0]
        chunk = os.read(watch.stderr.fileno(), 65536) if ready else b""
        if not chunk:
            raise RuntimeError(f"hookdk watch --ui printed no address: {seen.decode()}")
        seen += chunk
    line = next(line for line in seen.decode().splitlines() if "live page at " in line)
    return line.split(" at ", 1)[1].strip()


def not_measured(key: str, title: str, target: float, unit: str) -> Figure:
    why = "not measured: needs chromium, chromedriver and selenium (see docs/report.md)"
    return Figure(key, title, None, unit, target, None, note=why)


@contextmanager
def browser() -> Iterator:
    """Headless Chromium, or None when it (or Selenium) is missing."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        yield None
        return
    if chromium is None or driver is None:
        yield None
        return
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1280,900")
    session = webdriver.Chrome(options=options, service=Service(driver))
    try:
        yield session
    finally:
        session.quit()


def render(figures: list[dict]) -> list[str]:
    """Report lines for ``run.py``'s text report."""
    lines = []
    for figure in figures:
        if figure["value"] is None:
            lines += [f"({figure['key']}) {figure['title']}", f"    {figure['note']}", ""]
            continue
        verdict = "met" if figure["met"] else "MISSED"
        unit = figure["unit"]
        lines.append(
            f"({figure['key']}) {figure['title']}\n"
            f"    {figure['value']:g} {unit}    target < {figure['target']:g} {unit}    {verdict}"
        )
        lines += [f"    {name:<32} {value:10.2f}" for name, value in figure["figures"].items()]
        lines.append("")
    return lines
