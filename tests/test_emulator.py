"""The emulator end to end: real hook files, real git refs, real subprocesses."""

from __future__ import annotations

import json

import pytest

from hoophooks_dk.emulator import Emulator
from hoophooks_dk.errors import HookNotFound, PayloadError
from hoophooks_dk.payload import hook_id
from hoophooks_dk.render import HooksNotLoaded

DUMP_HOOK = """\
import os
print(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
"""


def fired_payload(result) -> dict:
    return json.loads(result.output)


def test_fire_sends_the_payload_hoop_would_send(hook_repo):
    repo = hook_repo(DUMP_HOOK)
    result = Emulator(repo.root).fire("session-close")
    sent = fired_payload(result)
    assert result.exit_code == 0
    assert sent["id"] == hook_id("session-close", sent["sid"]) == result.id
    assert sent["command"] == ["python3"]
    assert sent["input_file"] == DUMP_HOOK
    assert sent["event_session_open"] is None
    assert sent["event_session_close"] == {"exit_code": 0, "output": None}


def test_fields_and_overrides_reach_the_hook(hook_repo):
    repo = hook_repo(DUMP_HOOK)
    result = Emulator(repo.root).fire(
        "session-open", None, [("event_session_open.connection_reviewers", ["dba"])], verb="connect"
    )
    event = fired_payload(result)["event_session_open"]
    assert event["connection_reviewers"] == ["dba"]
    assert event["verb"] == "connect"


def test_a_partial_payload_file_is_completed(hook_repo):
    repo = hook_repo(DUMP_HOOK)
    partial = {
        "sid": "5e6b3c7a-0d42-4c1b-9f5e-1a2b3c4d5e42",
        "event_session_close": {"exit_code": 2, "output": "boom"},
    }
    sent = fired_payload(Emulator(repo.root).fire("session-close", partial))
    assert sent["id"] == hook_id("session-close", "5e6b3c7a-0d42-4c1b-9f5e-1a2b3c4d5e42")
    assert sent["event_session_close"] == {"exit_code": 2, "output": "boom"}


def test_a_payload_for_the_other_event_is_refused(hook_repo):
    repo = hook_repo(DUMP_HOOK)
    partial = {"event_session_close": {"exit_code": 0, "output": None}}
    with pytest.raises(
        PayloadError, match="is a session-close payload, but the event fired is session-open"
    ):
        Emulator(repo.root).fire("session-open", partial)


def test_a_missing_hook_names_its_path(runbooks):
    runbooks.hooks(open_source=DUMP_HOOK)
    with pytest.raises(HookNotFound, match=r"hoop-hooks/session-close\.runbook\.py does not exist"):
        Emulator(runbooks.root).fire("session-close")


def test_a_sibling_import_fails_as_on_the_agent(runbooks):
    runbooks.write("hoop-hooks/siem_client.py", "def send(): pass\n")
    runbooks.hooks(DUMP_HOOK, "import siem_client\nsiem_client.send()\n")
    result = Emulator(runbooks.root).fire("session-close")
    assert result.exit_code == 1
    assert "ModuleNotFoundError: No module named 'siem_client'" in result.output


def test_ref_runs_the_committed_version_not_the_working_tree(hook_repo):
    repo = hook_repo("print('committed')\n")
    repo.commit()
    repo.hooks(close_source="print('edited, not pushed')\n")
    assert Emulator(repo.root).fire("session-close").output == "edited, not pushed\n"
    assert Emulator(repo.root, ref="main").fire("session-close").output == "committed\n"
    assert Emulator(repo.root, ref="HEAD").fire("session-close").origin.startswith("HEAD (")


def test_ref_that_does_not_exist_is_a_user_error(hook_repo):
    repo = hook_repo(DUMP_HOOK)
    repo.commit()
    from hoophooks_dk.errors import HookdkError

    with pytest.raises(HookdkError, match="--ref nope: no such revision"):
        Emulator(repo.root, ref="nope").fire("session-close")


def test_ref_without_the_hook_committed_is_missing(runbooks):
    runbooks.write("README.md", "runbooks\n")
    runbooks.commit()
    runbooks.hooks(DUMP_HOOK, DUMP_HOOK)
    with pytest.raises(HookNotFound, match="does not exist at main"):
        Emulator(runbooks.root, ref="main").fire("session-open")


def test_a_file_over_one_megabyte_stops_both_hooks(runbooks):
    runbooks.hooks(DUMP_HOOK, "#" + "x" * 1_000_000 + "\n")
    with pytest.raises(HooksNotLoaded, match="Hoop would not load either hook.*1,000,002 bytes"):
        Emulator(runbooks.root).fire("session-open")


def test_the_size_limit_error_starts_with_hoops_own_text(runbooks):
    runbooks.hooks(DUMP_HOOK, "#" + "x" * 1_000_000 + "\n")
    with pytest.raises(HooksNotLoaded) as caught:
        Emulator(runbooks.root).fire("session-open")
    hoop_text = "max template size [1000 KB] reached for hoop-hooks/session-close.runbook.py"
    assert caught.value.reason == caught.value.hoop_text == hoop_text
    assert str(caught.value).startswith(f"{hoop_text}: Hoop would not load either hook (")
    assert "the file is 1,000,002 bytes" in str(caught.value)


def test_a_file_of_exactly_one_megabyte_loads(runbooks):
    runbooks.hooks(DUMP_HOOK, "#" + "x" * 999_998 + "\n")
    assert Emulator(runbooks.root).fire("session-open").exit_code == 0


def test_a_symlinked_hook_runs_its_link_text_as_hoop_reads_it_from_git(runbooks):
    runbooks.hooks(DUMP_HOOK)
    runbooks.write("shared/close.py", "print('target')\n")
    link = runbooks.root / "hoop-hooks/session-close.runbook.py"
    link.symlink_to("../shared/close.py")
    result = Emulator(runbooks.root).fire("session-close")
    assert result.exit_code == 1  # python3 runs the text "../shared/close.py"
    assert result.payload["input_file"] == "../shared/close.py"
    assert "SyntaxError: invalid syntax" in result.output


def test_a_payload_too_large_for_the_environment_is_refused(hook_repo):
    repo = hook_repo("# " + "x" * 140_000 + "\nprint('never runs')\n")
    with pytest.raises(PayloadError, match="Linux refuses variables over 131,072 bytes") as caught:
        Emulator(repo.root).fire("session-close")
    assert "what makes it large: the hook's own source (input_file), 140," in str(caught.value)
    assert "session input" not in str(caught.value)


def test_a_large_session_input_is_named_as_what_is_large(hook_repo):
    repo = hook_repo(DUMP_HOOK)
    with pytest.raises(PayloadError) as caught:
        Emulator(repo.root).fire("session-open", input="SELECT 1;" * 15_000)
    message = str(caught.value)
    assert (
        "what makes it large: the session input (event_session_open.input), 135,002 bytes"
        in message
    )
    assert "input_file" not in message


def test_a_large_input_and_a_large_hook_are_both_named(hook_repo):
    repo = hook_repo("# " + "x" * 70_000 + "\nprint(1)\n")
    with pytest.raises(PayloadError) as caught:
        Emulator(repo.root).fire("session-open", input="x" * 70_000)
    message = str(caught.value)
    assert (
        "the session input (event_session_open.input), 70,002 bytes and the hook's own source"
        in message
    )


def test_the_hook_runs_rendered_and_input_file_is_the_rendered_text(runbooks):
    source = 'REGION = "{{ .region | default "us-east-1" }}"\nprint(REGION)\n'
    runbooks.hooks(DUMP_HOOK, source)
    result = Emulator(runbooks.root).fire("session-close")
    assert result.output == "us-east-1\n"
    assert result.payload["input_file"] == 'REGION = "us-east-1"\nprint(REGION)\n'


def test_a_template_error_in_either_file_stops_both_hooks(runbooks):
    runbooks.hooks('print(f"{{\\"user\\": \\"{who}\\"}}")\n', DUMP_HOOK)
    with pytest.raises(HooksNotLoaded) as caught:
        Emulator(runbooks.root).fire("session-close")
    message = str(caught.value)
    assert message.startswith(  # Hoop's text first, then what it means
        'template: :1: unexpected "\\\\" in command: Hoop would not load either hook '
        "(hoop-hooks/session-open.runbook.py, working tree)"
    )


def test_an_id_hoop_would_not_derive_is_refused(hook_repo):
    repo = hook_repo(DUMP_HOOK)
    partial = {
        "sid": "5e6b3c7a-0d42-4c1b-9f5e-1a2b3c4d5e01",
        "id": "made-up",
        "event_session_close": {"exit_code": 0, "output": None},
    }
    with pytest.raises(PayloadError, match=r"\$\.id: expected .*drop id"):
        Emulator(repo.root).fire("session-close", partial)


def test_invalid_utf8_in_a_hook_reaches_input_file_as_go_encodes_it(runbooks):
    """python3 refuses such a script on stdin (no coding cookie helps there), but the payload
    still carries it, one U+FFFD per invalid byte as Go's JSON encoder writes it."""
    runbooks.hooks(DUMP_HOOK, b"# caf\xc3 \xe2\x82\nprint(1)\n")
    result = Emulator(runbooks.root).fire("session-close")
    assert result.payload["input_file"] == "# caf\ufffd \ufffd\ufffd\nprint(1)\n"
    assert result.exit_code == 1
    assert "SyntaxError: Non-UTF-8 code" in result.output


def test_fields_on_a_given_payload_leave_the_callers_dict_alone(hook_repo):
    repo = hook_repo(DUMP_HOOK)
    partial = {
        "sid": "5e6b3c7a-0d42-4c1b-9f5e-1a2b3c4d5e07",
        "event_session_close": {"exit_code": 0, "output": None},
    }
    sent = fired_payload(Emulator(repo.root).fire("session-close", partial, exit_code=5))
    assert sent["event_session_close"]["exit_code"] == 5
    assert partial == {
        "sid": "5e6b3c7a-0d42-4c1b-9f5e-1a2b3c4d5e07",
        "event_session_close": {"exit_code": 0, "output": None},
    }


SECOND = "5e6b3c7a-0d42-4c1b-9f5e-1a2b3c4d5ef2"


def test_a_sid_given_as_a_field_moves_the_id_as_set_does(hook_repo):
    repo = hook_repo(DUMP_HOOK)
    full = (
        Emulator(repo.root)
        .fire("session-close", sid="5e6b3c7a-0d42-4c1b-9f5e-1a2b3c4d5ef1")
        .payload
    )
    moved = fired_payload(Emulator(repo.root).fire("session-close", full, sid=SECOND))
    assert moved["id"] == hook_id("session-close", SECOND)
