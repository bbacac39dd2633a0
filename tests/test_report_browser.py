"""The report and the live page in a real browser: what a person sees.

Each page comes from the command a user runs (``hookdk session --report``, ``hookdk
fire --report``, ``hookdk watch --ui``, ``pytest --hoop-report``), with real hooks posting
through the capture with curl; the page is opened in headless Chromium (``browser.py``)
and read as laid out: where bars and lines are drawn, which text is highlighted, what
the page loaded. A screenshot of each page is kept in the test's folder (``tmp_path``).

Marked ``browser``: they need Debian's chromium and chromium-driver (``.ci/run`` installs
them and runs these in a step of their own).
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from browser import box, chromium, console_errors, requested, screenshot, style
from run_hookdk import Watch, hookdk

pytestmark = pytest.mark.browser

#: Seconds a page may take to show what a test waits for (polled, never a timing assert).
PATIENCE = 60
PRINTER = "print('version {n}')\n"

# Each hook waits until the other has started (a barrier through files), so the session's
# hooks run at the same time by construction, then posts with curl.
TOGETHER = """\
import json, os, pathlib, subprocess, sys, time
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
me = "open" if payload["event_session_open"] else "close"
other = "close" if me == "open" else "open"
folder = pathlib.Path(os.environ["BARRIER"])
(folder / me).touch()
waited = time.monotonic() + 60
while not (folder / other).exists():
    if time.monotonic() > waited:
        sys.exit(f"{other} never started")
    time.sleep(0.01)
body = json.dumps({"sid": payload["sid"], "event": me})
subprocess.run(["curl", "-sS", "-o", "/dev/null", "-X", "POST", "https://siem.example.com/" + me,
                "-H", "Content-Type: application/json", "--data-binary", body], check=True)
print(me, "sent")
"""

# Sleeps past the gateway's timeout from its own start (which is after the run's start),
# so the second request is after the timeout whatever the machine's load.
LATE = """\
import subprocess, time
def post(what):
    subprocess.run(["curl", "-sS", "-o", "/dev/null", "-X", "POST",
                    "https://siem.example.com/" + what, "--data-binary", what], check=True)
post("early")
time.sleep(2.3)
post("late")
print("done")
"""

RAW = """\
import os, subprocess
subprocess.run(["curl", "-sS", "-o", "/dev/null", "-X", "POST", "https://siem.example.com/raw",
                "-H", "Content-Type: application/json",
                "--data-binary", os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"]], check=True)
"""

MARKUP = """\
import subprocess
evil = "<script>document.title='pwned'</script><img src=x onerror=\\"document.title='pwned'\\">"
subprocess.run(["curl", "-sS", "-o", "/dev/null", "-H", "X-Note: " + evil, "--data-binary", evil,
                "https://siem.example.com/a?q=%3Cscript%3E"], check=True)
print(evil)
"""


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


def open_page(browser, url: str, shot: Path):
    """Load ``url`` and keep a screenshot; the page must have loaded nothing else and
    logged no error (a load its policy blocked would be one)."""
    requested(browser)  # forget what earlier pages asked for
    browser.get(url)
    screenshot(browser, shot)
    assert requested(browser) == [url]
    assert console_errors(browser) == []


def test_a_reviewed_session_draws_its_hooks_overlapping_and_the_timeout_at_15_s(
    runbooks, tmp_path, browser
):
    repo = runbooks.hooks(TOGETHER, TOGETHER)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    page = tmp_path / "session.html"
    done = hookdk(
        "session", "--review", "--repo", str(repo.root), "--env", f"BARRIER={barrier}",
        "--report", str(page),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"hookdk: report written to {page}" in done.stderr

    open_page(browser, page.as_uri(), tmp_path / "session.png")
    lanes = [el.text for el in browser.find_elements("css selector", ".lane-label")]
    assert lanes == ["session-open", "session-open", "session-close"]
    bars = [box(browser, bar) for bar in browser.find_elements("css selector", "rect.bar")]
    first, second, close = bars
    for one, other in ((first, close), (second, close), (first, second)):
        assert one["left"] < other["right"] and other["left"] < one["right"]  # they overlap
    # the first hook's timeout line is where the axis says 15 s
    line = box(browser, browser.find_elements("css selector", "line.deadline")[0])
    fifteen = next(
        label for label in browser.find_elements("css selector", ".tick-label")
        if label.text == "15 s"
    )  # fmt: skip
    assert abs(line["x"] - box(browser, fifteen)["x"]) < 1
    assert line["left"] > max(bar["right"] for bar in bars)  # the hooks ended before it
    assert browser.find_element("css selector", ".deadline-label").text == "timeout 15 s"
    # every request is a mark on its hook's bar, and listed under its event
    marks = browser.find_elements("css selector", "circle.mark.http")
    assert len(marks) == 3 and not browser.find_elements("css selector", ".mark.late")
    rows = browser.find_elements("css selector", "details.request .url")
    assert sorted(row.text for row in rows) == [
        "https://siem.example.com/close",
        "https://siem.example.com/open",
        "https://siem.example.com/open",
    ]
    settings = browser.find_element("id", "settings").text
    assert "BARRIER" in settings and str(barrier) not in settings  # keys, never values


def test_a_late_request_is_drawn_after_the_timeout_line(runbooks, tmp_path, browser):
    repo = runbooks.hooks(LATE, LATE)
    page = tmp_path / "late.html"
    done = hookdk(
        "fire", "session-close", "--repo", str(repo.root), "--timeout", "2",
        "--kill-after", "30", "--report", str(page),
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # timed out: what the gateway records

    open_page(browser, page.as_uri(), tmp_path / "late.png")
    line = box(browser, browser.find_element("css selector", "line.deadline"))
    late = browser.find_elements("css selector", "circle.mark.late")
    assert len(late) == 1
    assert box(browser, late[0])["x"] > line["x"]
    assert style(browser, late[0], "fill") != style(
        browser, browser.find_element("css selector", "circle.mark:not(.late)"), "fill"
    )
    ran_on = browser.find_element("css selector", "rect.ran-on")
    assert box(browser, ran_on)["left"] == pytest.approx(line["x"], abs=1)
    assert browser.find_element("css selector", ".ran-on-label").text == "ran on past the timeout"
    row = browser.find_element("css selector", "details.request.late")
    assert "late" in row.find_element("css selector", ".tag.late").text.lower()
    assert row.find_element("css selector", ".url").text == "https://siem.example.com/late"
    badge = browser.find_element("css selector", ".event .badge")
    assert badge.text == "TIMED OUT"


def test_a_leak_is_highlighted_where_it_sits_in_the_request(runbooks, tmp_path, browser):
    repo = runbooks.hooks(RAW, RAW)
    page = tmp_path / "leak.html"
    done = hookdk("fire", "session-open", "--repo", str(repo.root), "--report", str(page))
    assert done.returncode == 1, done.stderr  # a leak fails the command

    open_page(browser, page.as_uri(), tmp_path / "leak.png")
    request = browser.find_element("css selector", "details.request")
    assert request.get_attribute("open") is not None  # a leaking request opens by itself
    assert request.find_element("css selector", ".tag.leak").is_displayed()
    marks = request.find_elements("css selector", "pre.body mark.leak")
    shown = {mark.text for mark in marks if mark.is_displayed()}
    # the run's own canary (its value carries a mark drawn for each run): the PASS one
    password = next(text for text in shown if _decoded(text).startswith("hoop-canary-pw-"))
    highlighted = next(mark for mark in marks if mark.text == password)
    assert style(browser, highlighted, "background-color") == "rgb(255, 214, 222)"
    assert "connection secret" in highlighted.get_attribute("title")
    listed = request.find_element("css selector", ".leak-list").text
    assert 'connection_envs["envvar:PASS"]' in listed and "in body" in listed


def test_what_a_hook_sent_is_shown_as_text_never_run_as_markup(runbooks, tmp_path, browser):
    repo = runbooks.hooks(MARKUP, MARKUP)
    page = tmp_path / "markup.html"
    done = hookdk("fire", "session-close", "--repo", str(repo.root), "--report", str(page))
    assert done.returncode == 0, done.stderr

    open_page(browser, page.as_uri(), tmp_path / "markup.png")
    assert browser.title == "hookdk fire session-close · hookdk"
    assert browser.execute_script("return document.scripts.length") == 0
    assert browser.find_elements("css selector", "img") == []
    evil = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
    request = browser.find_element("css selector", "details.request")
    request.find_element("css selector", "summary").click()  # open it, as a person would
    screenshot(browser, tmp_path / "markup-opened.png")
    assert request.find_element("css selector", "pre.body").text == evil
    headers = request.find_element("css selector", "table.headers").text
    assert f"X-Note {evil}" in headers
    assert browser.find_element("css selector", "section.record pre.out").text == evil


# --- the pytest plugin's pages ---------------------------------------------------------------

PLUGIN_TESTS = """\
def test_forwards(hoop_hooks):
    result = hoop_hooks.session("review-same-stream")
    assert result.ok


def test_leaks_and_fails(hoop_hooks):
    result = hoop_hooks.fire("session-open")
    assert result.leaks == [], "the hook sent a secret"


def test_fires_nothing():
    pass
"""


def test_the_plugin_writes_a_page_per_test_and_an_index(pytester, tmp_path, browser):
    hooks = pytester.path / "hoop-hooks"
    hooks.mkdir()
    for event in ("session-open", "session-close"):
        (hooks / f"{event}.runbook.py").write_text(RAW)
    pytester.makepyfile(test_hooks=PLUGIN_TESTS)
    # its own rootdir: CI keeps this folder inside the clone, whose pyproject.toml would
    # otherwise be the rootdir and name the tests from there
    pytester.makeini("[pytest]\n")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--hoop-report", "hookdk-report"
    )
    result.assert_outcomes(passed=2, failed=1)
    folder = pytester.path / "hookdk-report"
    result.stdout.fnmatch_lines([f"hoophooks_dk: 2 test page(s), see {folder / 'index.html'}"])

    open_page(browser, (folder / "index.html").as_uri(), tmp_path / "index.png")
    rows = browser.find_elements("css selector", "table.index tbody tr")
    assert [row.find_element("css selector", "a").text for row in rows] == [
        "test_hooks.py::test_forwards",
        "test_hooks.py::test_leaks_and_fails",
    ]
    assert [row.find_element("css selector", ".badge").text for row in rows] == [
        "PASSED",
        "FAILED",
    ]
    rows[1].find_element("css selector", "a").click()
    screenshot(browser, tmp_path / "failed-test.png")
    assert browser.find_element("css selector", "h1").text == "test_hooks.py::test_leaks_and_fails"
    assert "the hook sent a secret" in browser.find_element("css selector", "pre.failure").text
    assert browser.find_elements("css selector", "pre.body mark.leak")


# --- hookdk watch --ui ---------------------------------------------------------------------


def shown_runs(browser) -> list[str]:
    """The runs the page shows, top first: ``"2 ok"``..."""
    return [
        f"{run.get_attribute('data-run')} {run.get_attribute('data-status')}"
        for run in browser.find_elements("css selector", "#runs > section.run")
    ]


def wait_for(browser, condition, what: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, PATIENCE, poll_frequency=0.05).until(condition, what)


def test_the_live_page_shows_each_run_as_it_happens_and_stops_with_the_watch(
    runbooks, tmp_path, browser
):
    repo = runbooks.hooks(PRINTER.format(n=1), PRINTER.format(n=1))
    hook = repo.root / "hoop-hooks" / "session-close.runbook.py"
    watch = Watch(repo.root)
    try:
        requested(browser)  # forget what earlier pages asked for
        browser.get(watch.url)
        wait_for(browser, lambda b: shown_runs(b) == ["1 ok"], "the run at start")

        hook.write_text(PRINTER.format(n=2))
        wait_for(browser, lambda b: shown_runs(b)[:1] == ["2 ok"], "the run after a save")
        latest = browser.find_element("css selector", "#runs > section.run")
        assert (
            "session-open.runbook.py" not in latest.find_element("css selector", ".run-facts").text
        )
        assert "hoop-hooks/session-close.runbook.py saved" in latest.text
        assert "version 2" in latest.find_element("css selector", "pre.out").text
        screenshot(browser, tmp_path / "live.png")

        hook.write_text("print('{{ broken')\n")  # a template Hoop would not load
        wait_for(browser, lambda b: shown_runs(b)[:1] == ["3 not-run"], "the failed load")
        assert "NOT RUN" in browser.find_element("css selector", "#runs > section.run").text
        (repo.root / "hookdk.toml").write_text("timeout = 7\n")  # settings change too
        wait_for(browser, lambda b: shown_runs(b)[:1] == ["4 not-run"], "the settings' save")
        hook.write_text(PRINTER.format(n=5))
        wait_for(browser, lambda b: shown_runs(b)[:1] == ["5 ok"], "the watch goes on")
        assert shown_runs(browser) == ["5 ok", "4 not-run", "3 not-run", "2 ok", "1 ok"]
        assert "7 s (the gateway" in browser.find_element("id", "settings").text
        screenshot(browser, tmp_path / "live-after-errors.png")
        assert all(url.startswith(watch.url) for url in requested(browser))  # nothing else
        assert console_errors(browser) == []
    finally:
        code = watch.stop()
    assert code == 0, watch.stderr.decode()
    wait_for(
        browser,
        lambda b: b.find_element("id", "connection").text == "watch stopped",
        "the page to hear the watch stopped",
    )
    with pytest.raises(urllib.error.URLError):  # the port is closed with it
        urllib.request.urlopen(watch.url, timeout=5)


def _decoded(text: str) -> str:
    try:
        return base64.b64decode(text, validate=True).decode()
    except ValueError:
        return ""
