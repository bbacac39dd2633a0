"""One size for the payload in the hook's environment: HK107, ``fuzz`` and the emulator.

Linux refuses to start a process with one environment string over 131,072 bytes, and the
payload carries the hook's rendered source in ``input_file``. A byte of that source that
is not UTF-8 reaches the hook as Go's JSON writes it, the six characters ``\\ufffd``;
measuring it as one U+FFFD (three bytes, ``errors="replace"``) let HK107 and ``fuzz``
pass a hook the agent could never start. Each size here is taken from what the emulator
hands the runner, or from what the hook itself received, never from the kit's measure.
"""

from __future__ import annotations

import json
import os
import re

import pytest
from check_repos import CLOSE, OPEN
from run_hookdk import hookdk

from hoophooks_dk import emulator as emulating
from hoophooks_dk.check import check
from hoophooks_dk.emulator import Emulator, build_payload
from hoophooks_dk.errors import HookdkError, PayloadError
from hoophooks_dk.fuzz import fits_in_environment, fuzz
from hoophooks_dk.payload import MAX_ENV_STRING, hoop_json, synthetic
from hoophooks_dk.render import render

NAME = b"HOOP_RUNBOOK_HOOK_PAYLOAD"
EVENTS = {OPEN: "session-open", CLOSE: "session-close"}
HEADER = b"# python3 refuses this source (it is not UTF-8), but only once it has started\n"
# Runs as python3 starts, before it reads the hook: the bytes the process received.
SITECUSTOMIZE = f"""\
import os
print(len(os.environb[{NAME!r}]), flush=True)
"""


def latin1_hook(invalid: int, padding: int = 0) -> bytes:
    """``invalid`` bytes that are not UTF-8 (six bytes each as sent), ``padding`` ASCII:
    text in Latin-1, as an editor might save it."""
    return HEADER + b"# " + b"\xe9" * invalid + b"\n# " + b"x" * padding + b"\n"


# 30,000 such bytes: about 90 KB as three bytes each (the old measure), 180 KB as sent.
LARGE = latin1_hook(30_000)


class Recording:
    """Keeps the environment the emulator hands its runner, and starts nothing: the tests
    that use it fire payloads too large for the kernel to start any process with."""

    def __init__(self) -> None:
        self.env: dict[str, str] = {}

    def run(self, script, env, timeout, kill_after):
        self.env = dict(env)
        raise _Recorded

    def close(self) -> None:
        pass


class _Recorded(Exception):
    pass


def sent_size(monkeypatch, repo, event: str) -> tuple[int, str]:
    """Bytes of ``NAME=value`` and its NUL in the environment the emulator would start the
    hook with (its refusal switched off for this), and the value itself."""
    monkeypatch.setattr(emulating, "check_environment_size", lambda *args: None)
    runner = Recording()
    with pytest.raises(_Recorded):
        Emulator(repo.root, runner=runner).fire(event)
    monkeypatch.undo()
    value = runner.env[NAME.decode()]
    return len(NAME + b"=" + os.fsencode(value) + b"\0"), value


def old_size(event: str, source: bytes) -> int:
    """What HK107 measured before: the source decoded with ``errors="replace"``."""
    payload = build_payload(event, input_file=render(source).decode("utf-8", "replace"))
    return len(NAME) + 1 + len(hoop_json(payload).encode()) + 1


def reported_size(message: str) -> int:
    return int(re.search(r"the payload is ([\d,]+) bytes", message)[1].replace(",", ""))


def test_hk107_measures_bytes_that_are_not_utf8_as_the_emulator_sends_them(monkeypatch, hook_repo):
    repo = hook_repo(LARGE)
    findings = [f for f in check(repo.root, static=True) if f.rule == "HK107"]
    assert sorted(f.file for f in findings) == [CLOSE, OPEN]
    for found in findings:
        event = EVENTS[found.file]
        assert old_size(event, LARGE) < MAX_ENV_STRING  # what let it through before
        sent, value = sent_size(monkeypatch, repo, event)
        assert json.loads(value)["input_file"].count("\ufffd") == 30_000
        assert value.count("\\ufffd") == 30_000  # six bytes each, as Go writes them
        assert sent > MAX_ENV_STRING
        assert reported_size(found.message) == sent


def test_hookdk_fire_refuses_it_at_the_same_size(monkeypatch, hook_repo):
    repo = hook_repo(LARGE)
    sent, value = sent_size(monkeypatch, repo, "session-close")
    field = re.search(r'"input_file":("(?:[^"\\]|\\.)*")', value)[1]  # as sent
    done = hookdk("fire", "session-close", "--repo", str(repo.root))
    assert done.returncode == 2, done.stderr
    assert "Linux refuses variables over 131,072 bytes" in done.stderr
    assert reported_size(done.stderr) == sent
    assert f"the hook's own source (input_file), {len(field.encode()):,} bytes" in done.stderr
    assert "Traceback" not in done.stderr


def test_fuzz_refuses_it_before_drawing_a_payload(hook_repo):
    repo = hook_repo(LARGE)
    with pytest.raises(HookdkError, match="source is too large for Hoop to start it"):
        fuzz(Emulator(repo.root), "session-close", examples=3)


def test_at_the_limit_check_fuzz_and_the_emulator_agree_to_the_byte(
    monkeypatch, runbooks, tmp_path
):
    """Exactly 131,072 bytes: HK107 passes, fuzz lets a payload through, python3 starts
    and finds that many bytes; one more byte, and all three refuse."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    repo = runbooks.hooks(HEADER, latin1_hook(20_000))
    probe, _ = sent_size(monkeypatch, repo, "session-close")
    at_limit = latin1_hook(20_000, MAX_ENV_STRING - probe)
    repo.hooks(close_source=at_limit)
    assert [f.file for f in check(repo.root, static=True) if f.rule == "HK107"] == []
    script = render(at_limit).decode("utf-8", "surrogateescape")
    assert fits_in_environment(synthetic("session-close"), "session-close", script)
    result = Emulator(repo.root, extra_env={"PYTHONPATH": str(site)}).fire("session-close")
    received, _, rest = result.output.partition("\n")
    assert int(received) == MAX_ENV_STRING - len(NAME) - 2  # "=" and the NUL
    assert "SyntaxError: Non-UTF-8 code" in rest  # it started, then refused the source

    over = latin1_hook(20_000, MAX_ENV_STRING - probe + 1)
    repo.hooks(close_source=over)
    [found] = [f for f in check(repo.root, static=True) if f.rule == "HK107"]
    assert (found.file, reported_size(found.message)) == (CLOSE, MAX_ENV_STRING + 1)
    script = render(over).decode("utf-8", "surrogateescape")
    assert not fits_in_environment(synthetic("session-close"), "session-close", script)
    with pytest.raises(PayloadError, match="the payload is 131,073 bytes"):
        Emulator(repo.root).fire("session-close")
