"""The HTML report without a browser: the timeline's geometry, how bodies and output are
shown, what a page holds (escaped, self-contained), where pages are written, and the
faces that write them (``--report``, ``--hoop-report``, the generated CI files).

What a person sees in a real browser is checked in ``test_report_browser.py``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import markupsafe
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from run_hookdk import hookdk

from hoophooks_dk import wiring
from hoophooks_dk.errors import HookdkError
from hoophooks_dk.payload import b64
from hoophooks_dk.report import content, timeline
from hoophooks_dk.report.model import report_page, run_info
from hoophooks_dk.report.render import is_page, render_page, write_page
from hoophooks_dk.runtime.runner import hoop_output
from hoophooks_dk.settings import RunSettings

ROOT = Path(__file__).resolve().parents[1]

# --- the timeline ----------------------------------------------------------------------


@given(st.lists(st.integers(0, 200_000).map(lambda ms: ms / 1000), min_size=1, max_size=30))
def test_the_axis_keeps_the_order_of_every_time_it_was_made_for(times):
    """Times to the millisecond (the clocks' resolution that matters here)."""
    axis = timeline.make_axis(times)
    points = sorted({0.0, *times})
    xs = [axis.x(t) for t in points]
    assert all(a < b for a, b in zip(xs, xs[1:], strict=False))  # later is further right
    assert xs[0] >= timeline.PLOT_LEFT and xs[-1] <= timeline.PLOT_RIGHT


def hook(start: float, end: float, timeout: float = 15.0, sends=()) -> timeline.HookSpan:
    return timeline.HookSpan("session-close", "", "ok", "e0", start, end, timeout, tuple(sends))


def test_fast_hooks_and_a_15_s_timeout_break_the_axis_so_the_hooks_show():
    picture = timeline.layout([hook(0.0, 0.12), hook(0.002, 0.1)])
    assert len(picture.breaks) == 1
    left, right = picture.plot
    bar = picture.lanes[0].bar
    assert bar[1] - bar[0] > (right - left) / 2  # the hook fills most of the picture
    (x, label), *_ = [tick for tick in picture.ticks if tick[1] == "15 s"]
    assert x == picture.lanes[0].deadline_x
    assert picture.deadlines == ((picture.lanes[0].deadline_x, "timeout 15 s"),)  # once


def test_a_hook_that_ran_on_is_drawn_past_its_timeout_with_its_late_request():
    sends = [(0.1, "http", False, "r0", "early"), (2.5, "http", True, "r1", "late")]
    picture = timeline.layout([hook(0.0, 2.6, timeout=2.0, sends=sends)])
    lane = picture.lanes[0]
    assert picture.breaks == ()  # seconds apart: drawn to scale
    assert lane.bar[1] == lane.deadline_x == lane.ran_on[0] < lane.ran_on[1]
    early, late = lane.marks
    assert early.x < lane.deadline_x < late.x and late.late


# --- bodies, output, payloads -------------------------------------------------------------


def test_bodies_are_shown_as_json_text_or_hex():
    assert content.body_view(b'{"b": [1, 2], "a": "\\u00e9"}').kind == "json"
    pretty = content.body_view(b'{"b": [1, 2], "a": "\\u00e9"}').pieces[0].text
    assert pretty == '{\n  "b": [\n    1,\n    2\n  ],\n  "a": "é"\n}'
    lines = content.body_view(b'{"a": 1}\n{"a": 2}\n')
    assert (lines.kind, lines.pieces[0].text) == ("json", '{"a": 1}\n{"a": 2}')
    assert content.body_view(b"a=1&b=2").kind == "text"
    binary = content.body_view(bytes(range(256)) * 2)
    assert binary.kind == "binary" and binary.hidden == 256
    assert binary.pieces[0].text.splitlines()[4].startswith("00000040  40 41 42")
    assert content.body_view(b"").empty
    long = content.body_view(b"x" * (content.SHOW_CHARS + 5))
    assert long.hidden == 5 and len(long.pieces[0].text) == content.SHOW_CHARS


def test_overlapping_secrets_are_one_mark():
    pieces = content.marked("say abcdef and cdefgh", {"abcdef": "one", "cdefgh": "two"}, "leak")
    assert [(p.text, p.mark) for p in pieces] == [
        ("say ", None),
        ("abcdef", "leak"),
        (" and ", None),
        ("cdefgh", "leak"),
    ]
    merged = content.marked("xxabcdefghxx", {"abcdef": "one", "defgh": "two"}, "leak")
    assert [(p.text, p.mark, p.note) for p in merged] == [
        ("xx", None, ""),
        ("abcdefgh", "leak", "one"),
        ("xx", None, ""),
    ]


def test_the_output_shows_where_the_agent_cuts_it():
    raw = "é".encode() * 2047 + b"ab" + b"tail" * 3  # the cut falls after 4096 bytes
    view = content.output_view(raw)
    assert view.kept + f" [truncated {view.cut} byte(s)]" == hoop_output(raw)
    assert (view.cut, view.rest) == (12, "tail" * 3)
    cut_in_a_character = content.output_view(b"a" + "é".encode() * 2048)
    assert cut_in_a_character.kept.endswith("\ufffd")  # one U+FFFD per byte kept, as Go


def test_the_payload_marks_its_canaries_and_shows_the_source_once():
    payload = {
        "id": "x",
        "input_file": "print('the hook')\n",
        "event_session_open": {"connection_envs": {"envvar:PASS": b64("hunter2-secret")}},
    }
    canaries = {'connection_envs["envvar:PASS"]': b64("hunter2-secret"), "input_file": "p"}
    pieces = content.payload_view(payload, canaries)
    marks = [p for p in pieces if p.mark == "canary"]
    assert [p.text for p in marks] == [
        content.input_file_placeholder("print('the hook')\n"),
        b64("hunter2-secret"),
    ]
    assert "print('the hook')" not in "".join(p.text for p in pieces)


# --- a page: escaped, self-contained ------------------------------------------------------

HOSTILE = """\
import subprocess
evil = "</pre><script>alert(1)</script><a href='https://evil.example/x'>x</a>"
subprocess.run(["curl", "-sS", "-o", "/dev/null", "-H", "X-Evil: " + evil, "--data-binary", evil,
                "https://siem.example.com/in?q=<b>"], check=True)
print(evil)
"""


class Tags(HTMLParser):
    """Every tag and attribute of a page, as a browser's parser reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        self._in_style = tag == "style"

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)
            self._in_style = False


@pytest.fixture
def hostile_page(hook_repo) -> str:
    repo = hook_repo(HOSTILE)
    settings = RunSettings()
    with wiring.run(repo.root, settings) as emulator:
        result = emulator.fire("session-close")
    assert result.ok and len(result.requests) == 1
    info = run_info(settings, repo=repo.root, runner="subprocess", network="captured")
    return render_page(report_page([[result]], title="<title> of the page", info=info))


def test_what_a_hook_sent_never_becomes_markup(hostile_page):
    parsed = Tags()
    parsed.feed(hostile_page)
    assert "script" not in parsed.tags
    assert not [a for a in parsed.attributes if a[0] == "a" and "evil" in a[2]]
    evil = "</pre><script>alert(1)</script><a href='https://evil.example/x'>x</a>"
    assert str(markupsafe.escape(evil)) in hostile_page  # shown, as text
    assert "&lt;title&gt; of the page" in hostile_page


def test_a_page_loads_nothing_and_names_its_own_style_in_its_policy(hostile_page):
    parsed = Tags()
    parsed.feed(hostile_page)
    policy = next(
        v
        for tag, name, v in parsed.attributes
        if tag == "meta" and name == "content" and "default-src" in v
    )
    assert policy.startswith("default-src 'none'; style-src 'sha256-")
    (style,) = parsed.styles
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy
    assert "script-src" not in policy  # a report runs no script
    loads = [
        (tag, name, value)
        for tag, name, value in parsed.attributes
        if name in ("src", "href", "srcset", "action", "data", "poster")
        and not value.startswith("#")
    ]
    assert loads == []  # only links within the page


def test_the_page_shows_the_settings_keys_never_their_values(hook_repo):
    repo = hook_repo("print('hi')\n")
    settings = RunSettings(env={"SIEM_TOKEN": "tok-very-secret-123"})
    with wiring.run(repo.root, settings) as emulator:
        result = emulator.fire("session-close")
    info = run_info(settings, repo=repo.root, runner="fast", network="captured", command="x")
    page = render_page(report_page([[result]], title="t", info=info))
    assert "SIEM_TOKEN" in page and "tok-very-secret-123" not in page
    assert "agent runtime</code>, fast runner" in page  # hooks run in the agent runtime


# --- writing pages ----------------------------------------------------------------------------


def test_a_page_is_written_only_over_a_page_and_leaves_no_temporary_file(tmp_path):
    mine = tmp_path / "notes.html"
    mine.write_text("<p>mine</p>")
    with pytest.raises(HookdkError, match="is not a hookdk report"):
        write_page(mine, render_page(report_page([], title="x")))
    assert mine.read_text() == "<p>mine</p>"
    page = tmp_path / "report.html"
    write_page(page, render_page(report_page([], title="first")))
    write_page(page, render_page(report_page([], title="second")))
    assert is_page(page) and "second" in page.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.html", "report.html"]


SENTINEL = """\
import pathlib
pathlib.Path({path!r}).write_text("ran")
"""


def test_a_report_file_the_kit_did_not_write_is_refused_before_any_hook_runs(hook_repo, tmp_path):
    ran = tmp_path / "ran"
    repo = hook_repo(SENTINEL.format(path=str(ran)))
    mine = tmp_path / "README.md"
    mine.write_text("# mine\n")
    done = hookdk("fire", "session-close", "--repo", str(repo.root), "--report", str(mine))
    assert done.returncode == 2
    assert done.stderr == (
        f"hookdk: error: {mine} exists and is not a hookdk report: give another file name "
        "(it is not overwritten)\n"
    )
    assert not ran.exists() and mine.read_text() == "# mine\n"
    missing = tmp_path / "no" / "r.html"
    done = hookdk("session", "--repo", str(repo.root), "--report", str(missing))
    assert (done.returncode, done.stderr) == (
        2,
        f"hookdk: error: {missing}: no such folder {missing.parent}\n",
    )
    assert not ran.exists()


def test_session_report_with_json_keeps_stdout_json(hook_repo, tmp_path):
    repo = hook_repo("import sys\nsys.exit(3)\n")
    page = tmp_path / "s.html"
    done = hookdk("session", "--repo", str(repo.root), "--json", "--report", str(page))
    assert done.returncode == 1  # the hooks failed; the page is written all the same
    assert [r["exit_code"] for r in json.loads(done.stdout)] == [3, 3]
    assert done.stderr.endswith(f"hookdk: report written to {page}\n")
    text = page.read_text()
    assert text.count('class="event failed"') == 2 and "session exec" in text


def test_watch_refuses_port_and_open_without_ui(hook_repo):
    repo = hook_repo("print('hi')\n")
    for flag in (["--port", "8123"], ["--open"]):
        done = hookdk("watch", "--repo", str(repo.root), *flag)
        assert done.returncode == 2
        assert done.stderr.startswith(f"hookdk: error: {flag[0]} applies to --ui")


# --- the plugin's folder ------------------------------------------------------------------------

RAW = """\
import os, subprocess
subprocess.run(["curl", "-sS", "-o", "/dev/null", "-X", "POST", "https://siem.example.com/raw",
                "--data-binary", os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"]], check=True)
"""

TESTS = """\
import pytest

@pytest.mark.parametrize("n", range(3))
def test_fires(hoop_hooks, n):
    assert hoop_hooks.fire("session-close").ok

def test_quiet():
    pass
"""


@pytest.fixture
def plugin_project(pytester: pytest.Pytester) -> pytest.Pytester:
    hooks = pytester.path / "hoop-hooks"
    hooks.mkdir()
    for event in ("session-open", "session-close"):
        (hooks / f"{event}.runbook.py").write_text(RAW)
    pytester.makepyfile(test_hooks=TESTS)
    return pytester


def test_under_xdist_each_worker_writes_its_pages_and_the_controller_the_index(plugin_project):
    folder = plugin_project.path / "out"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    stale = folder / "old.html"
    stale.write_text(render_page(report_page([], title="an earlier run")))
    result = plugin_project.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "--hoop-report", "out"
    )
    result.assert_outcomes(passed=4)
    pages = sorted(p.name for p in folder.glob("*.html") if p.name != "index.html")
    assert len(pages) == 3 and all(name.startswith("test_hooks.py-test_fires-") for name in pages)
    assert not stale.exists() and (folder / "keep.txt").read_text() == "mine"
    index = (folder / "index.html").read_text()
    for n in range(3):
        assert f"test_hooks.py::test_fires[{n}]" in index
    assert "test_quiet" not in index  # it fired no hook
    assert re.findall(r'href="([^"]+)"', index) == pages


def test_a_folder_whose_index_is_not_the_kits_is_refused(plugin_project):
    folder = plugin_project.path / "site"
    folder.mkdir()
    (folder / "index.html").write_text("<h1>my site</h1>")
    result = plugin_project.runpytest_subprocess("-p", "no:cacheprovider", "--hoop-report", "site")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*--hoop-report {folder}: {folder / 'index.html'} is not a hookdk page*"]
    )
    assert (folder / "index.html").read_text() == "<h1>my site</h1>"


# --- the generated CI files keep the folder --------------------------------------------------


def written_ci(tmp_path, ci: str) -> dict:
    """The CI file `hookdk init --ci CI` writes (its install line filled in)."""
    from hoophooks_dk.scaffold.writer import CI_FILES, init

    init(tmp_path, ci=ci, kit_spec="hoophooks_dk==0.1.0")
    return yaml.safe_load((tmp_path / CI_FILES[ci]).read_text())


def test_the_github_workflow_keeps_the_pages_when_the_tests_fail(tmp_path):
    steps = written_ci(tmp_path, "github")["jobs"]["hooks"]["steps"]
    run = next(i for i, step in enumerate(steps) if "pytest" in step.get("run", ""))
    assert steps[run]["run"].endswith("--hoop-report hookdk-report")
    upload = steps[run + 1]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["if"] == "failure()" and upload["with"]["path"] == "hookdk-report/"


def test_the_gitlab_job_keeps_the_pages_beside_the_code_quality_report(tmp_path):
    job = written_ci(tmp_path, "gitlab")["hoop-hooks"]
    pytest_line = next(line for line in job["script"] if "pytest" in line)
    assert "--hoop-report hookdk-report" in pytest_line
    assert job["artifacts"]["when"] == "always"  # the Code Quality report: always
    assert job["artifacts"]["paths"] == ["hookdk-report/"]
