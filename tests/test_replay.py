"""hookdk replay: a session read from a fake Hoop API (validated against Hoop's OpenAPI
shapes) fired through real hooks in real subprocesses, as Hoop fired it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import trustme
from fake_hoop import TOKEN, FakeHoop, connection, recorded  # noqa: F401
from run_hookdk import hookdk, make_repo

# Each hook prints the payload it got (without its own source), so the test reads what
# Hoop's payload would have been from the result's output.
PRINT_PAYLOAD = """\
import json, os
payload = json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
payload.pop("input_file")
print(json.dumps(payload))
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "runbooks"
    make_repo(root, PRINT_PAYLOAD)
    return root


def serve(*names: str, routes: dict | None = None, **fake) -> FakeHoop:
    """The fake API with the recorded sessions ``names``, ``routes`` on top; ``fake`` are
    FakeHoop's options (token, tls...)."""
    sessions = {f"/sessions/{recorded(n)['id']}": recorded(n) for n in names}
    base = {"/orgs/hide-role-info": {"hide_role_info": False}, **sessions}
    return FakeHoop(base | (routes or {}), **fake)


def replay(fake: FakeHoop, repo: Path, *args: str, token: str = TOKEN, home: Path | None = None):
    env = {"HOOP_APIURL": fake.url, "HOOP_TOKEN": token, "HOME": str(home or repo.parent)}
    return hookdk("replay", *args, "--repo", str(repo), cwd=repo, env=env)


def seen(result: dict) -> dict:
    return json.loads(result["output"])


def run_json(fake: FakeHoop, repo: Path, sid: str, *args: str) -> tuple[dict, list[dict]]:
    done = replay(fake, repo, sid, "--json", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    body = json.loads(done.stdout)
    return body["session"], [seen(result) for result in body["results"]]


@pytest.mark.parametrize(
    ("name", "flow", "events"),
    [
        ("exec", "exec", ["session-open", "session-close"]),
        ("connect", "connect", ["session-open", "session-close"]),
        ("client-left", "client-left", ["session-open"]),
        ("review-same-stream", "review-same-stream", ["session-open"] * 2 + ["session-close"]),
        ("review-ai", "review-ai", ["session-open", "session-close"]),
        ("review-rejected", "review-rejected", ["session-open"]),
        ("agent-error", "exec", ["session-open", "session-close"]),
        ("running", None, ["session-open"]),
    ],
)
def test_each_recorded_flow_fires_what_hoop_fired(repo, name, flow, events):
    session = recorded(name)
    with serve(name) as fake:
        plan, payloads = run_json(fake, repo, session["id"])
    assert plan["flow"] == flow
    fired = ["session-open" if p["event_session_open"] else "session-close" for p in payloads]
    assert fired == events
    for payload in payloads:  # the session's own ids: what a SIEM deduplicates on
        event = "session-open" if payload["event_session_open"] else "session-close"
        assert payload["sid"] == session["id"]
        assert payload["id"] == str(uuid.uuid5(uuid.NAMESPACE_URL, f"{event}/{session['id']}"))
        opened = payload["event_session_open"]
        if opened:
            assert opened["verb"] == session["verb"]
            assert opened["connection_name"] == session["connection"]
            assert opened["connection_type"] == session["type"]
            assert opened["connection_subtype"] == session["connection_subtype"]
            assert opened["user_email"] == session["user"]
            assert opened["input"] == session["script"]["data"]


def test_a_client_that_left_names_the_web_and_desktop_flows_the_api_cannot_tell_apart(repo):
    """The API has no origin: a 254 connect is the CLI's client-left by default, and the
    plan says how to replay the web app's (close fired) and Hoop Desktop's (close only)."""
    session = recorded("client-left")
    with serve("client-left") as fake:
        plan, _ = run_json(fake, repo, session["id"])
        _, web = run_json(fake, repo, session["id"], "--flow", "client-left-web")
        _, desktop = run_json(fake, repo, session["id"], "--flow", "proxy-manager")
    assert any("--flow client-left-web" in note for note in plan["notes"])
    assert any("--flow proxy-manager" in note for note in plan["notes"])
    assert [bool(p["event_session_open"]) for p in web] == [True, False]
    assert web[-1]["event_session_close"]["exit_code"] == 254
    assert [bool(p["event_session_open"]) for p in desktop] == [False]


def test_the_close_carries_the_exit_code_and_the_stored_error_text(repo):
    session = recorded("exec-failed")
    with serve("exec-failed") as fake:
        _, payloads = run_json(fake, repo, session["id"])
    assert payloads[-1]["event_session_close"] == {
        "exit_code": 1,
        "output": 'psql:/tmp/hoop-script.sql:1: ERROR:  relation "missing_table" does not exist\n'
        "LINE 1: SELECT * FROM missing_table;\n                      ^\n",
    }
    clean = recorded("exec")  # no "e" event: Hoop sent output null
    with serve("exec") as fake:
        _, payloads = run_json(fake, repo, clean["id"])
    assert payloads[-1]["event_session_close"] == {"exit_code": 0, "output": None}


def test_a_session_made_by_an_api_key_keeps_the_key_name_as_user_email(repo):
    session = recorded("api-key")
    with serve("api-key") as fake:
        plan, payloads = run_json(fake, repo, session["id"])
    assert [p["event_session_open"]["user_email"] for p in payloads[:1]] == ["ci-deploy"]
    assert any("API key's name" in note for note in plan["notes"])


def test_reviewed_session_sends_the_review_groups_and_run_later_takes_run_by(repo):
    session = recorded("review-same-stream")
    with serve("review-same-stream") as fake:
        _, payloads = run_json(
            fake, repo, session["id"], "--flow", "review-run-later", "--run-by", "bob@example.com"
        )
    opens = [p["event_session_open"] for p in payloads if p["event_session_open"]]
    assert [o["user_email"] for o in opens] == ["alice@example.com", "bob@example.com"]
    assert all(o["connection_reviewers"] == ["dba", "sec"] for o in opens)


def test_a_session_hoop_fired_no_hook_for_fires_none(repo):
    session = recorded("ai-blocked")
    with serve("ai-blocked") as fake:
        done = replay(fake, repo, session["id"])
    assert done.returncode == 0, done.stderr
    assert "Hoop fired no hook for this session" in done.stdout
    assert "session-open" not in done.stdout


def test_secrets_are_never_fetched_unless_the_api_hides_their_values(repo):
    session = recorded("exec")
    shown = connection("pg-prod", {"envvar:PASS": "c3VwZXItc2VjcmV0"}, ["dba"])
    with serve("exec", routes={"/connections/pg-prod": shown}) as fake:
        _, payloads = run_json(fake, repo, session["id"])
        asked = fake.paths()
    assert "/api/connections/pg-prod" not in asked  # values would have come with it
    envs = payloads[0]["event_session_open"]["connection_envs"]
    assert set(envs) == {"envvar:HOST", "envvar:USER", "envvar:PASS"}  # the kit's canaries

    masked = connection("pg-prod", {"envvar:DB_PASSWORD": None, "envvar:DB_USER": None}, ["dba"])
    routes = {"/orgs/hide-role-info": {"hide_role_info": True}, "/connections/pg-prod": masked}
    with serve("exec", routes=routes) as fake:
        _, payloads = run_json(fake, repo, session["id"])
    opened = payloads[0]["event_session_open"]
    assert sorted(opened["connection_envs"]) == ["envvar:DB_PASSWORD", "envvar:DB_USER"]
    assert all(value for value in opened["connection_envs"].values())  # canary values
    assert opened["connection_reviewers"] == ["dba"]


def test_canaries_catch_a_hook_that_forwards_the_connection_secrets(tmp_path):
    root = tmp_path / "runbooks"
    make_repo(
        root,
        "import os, urllib.request\n"
        "req = urllib.request.Request('https://siem.example.com/in', "
        "data=os.environ['HOOP_RUNBOOK_HOOK_PAYLOAD'].encode(), method='POST')\n"
        "urllib.request.urlopen(req, timeout=10).read()\n",
    )
    session = recorded("exec")
    with serve("exec") as fake:
        done = replay(fake, root, session["id"])
    assert done.returncode == 1, done.stdout + done.stderr
    assert "LEAKED" in done.stdout and "connection_envs" in done.stdout


def test_set_changes_the_event_it_names_only(repo):
    session = recorded("exec")
    with serve("exec") as fake:
        _, payloads = run_json(
            fake, repo, session["id"], "--set", "event_session_close.exit_code=3"
        )
    assert payloads[0]["event_session_close"] is None
    assert payloads[1]["event_session_close"]["exit_code"] == 3


def test_save_writes_payloads_that_fire_replays_and_is_never_overwritten(repo, tmp_path):
    session = recorded("exec-failed")
    saved = tmp_path / "incident.json"
    with serve("exec-failed") as fake:
        _, payloads = run_json(fake, repo, session["id"], "--save", str(saved))
        again = replay(fake, repo, session["id"], "--save", str(saved))
    stored = json.loads(saved.read_text())
    assert set(stored) == {"session-open", "session-close"}
    assert "input_file" not in stored["session-close"]
    assert again.returncode == 2 and "--force" in again.stderr
    assert json.loads(saved.read_text()) == stored
    fired = hookdk("fire", "session-close", "--payload", str(saved), "--json", cwd=repo)
    assert fired.returncode == 0, fired.stderr
    assert json.loads(json.loads(fired.stdout)["output"]) == payloads[-1]


@pytest.mark.parametrize("problem", ["bad token", "unknown session", "unreachable", "tls"])
def test_api_failures_are_one_line_exit_2_and_never_show_the_token(repo, problem):
    sid, token = recorded("exec")["id"], TOKEN
    if problem == "bad token":
        token = "hpk_wrong-but-secret-0123456789"
    if problem == "unknown session":
        sid = "00000000-0000-4000-8000-000000000000"
    with serve("exec", tls=ssl_context(trustme.CA()) if problem == "tls" else None) as fake:
        url = closed_port_url() if problem == "unreachable" else fake.url
        env = {"HOOP_APIURL": url, "HOOP_TOKEN": token, "HOME": str(repo.parent)}
        done = hookdk("replay", sid, "--repo", str(repo), cwd=repo, env=env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hookdk: error: "), done.stderr
    assert token not in done.stdout + done.stderr
    expected = {
        "bad token": "refused the token from HOOP_TOKEN",
        "unknown session": f"no session {sid}",
        "unreachable": "cannot reach the Hoop API",
        "tls": "TLS failed",
    }[problem]
    assert expected in lines[0]


def closed_port_url() -> str:
    """An address where nothing listens: a port the OS gave and took back."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_json_errors_are_json(repo):
    with serve("exec") as fake:
        done = replay(fake, repo, recorded("exec")["id"], "--json", token="hpk_not-this-one-at-all")
    assert done.returncode == 2
    assert json.loads(done.stdout)["exit_code"] == 2


def test_hoops_cli_config_file_with_its_ca_is_enough(repo, tmp_path):
    """~/.hoop/config.toml as `hoop login` writes it: api_url, token, tls_ca (base64)."""
    import base64

    ca = trustme.CA()
    session = recorded("exec")
    home = tmp_path / "home"
    (home / ".hoop").mkdir(parents=True)
    with serve("exec", tls=ssl_context(ca)) as fake:
        pem = base64.b64encode(ca.cert_pem.bytes()).decode()
        (home / ".hoop" / "config.toml").write_text(
            f'token = "{TOKEN}"\napi_url = "{fake.url}"\ngrpc_url = "127.0.0.1:8010"\n'
            f'tls_ca = "{pem}"\nskip_tls_verify = false\n'
        )
        done = hookdk(
            "replay", session["id"], "--repo", str(repo), cwd=repo, env={"HOME": str(home)}
        )
        headers = fake.requests[0]["headers"]
    assert done.returncode == 0, done.stderr
    assert headers["authorization"] == f"Bearer {TOKEN}" and "api-key" not in headers


def test_a_gateway_api_key_goes_in_the_api_key_header_too(repo):
    key = "xapi-3d1f0a5c2b7e4f9a8c6d"
    session = recorded("exec")
    with serve("exec", token=key, api_key_header=True) as fake:
        done = replay(fake, repo, session["id"], token=key)
    assert done.returncode == 0, done.stderr


def ssl_context(ca: trustme.CA):
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


def test_a_saved_open_only_session_has_no_close_to_fire(repo, tmp_path):
    session = recorded("review-rejected")
    saved = tmp_path / "rejected.json"
    with serve("review-rejected") as fake:
        done = replay(fake, repo, session["id"], "--save", str(saved))
        forced = replay(fake, repo, session["id"], "--exit-code", "1")
    assert done.returncode == 0, done.stderr
    assert list(json.loads(saved.read_text())) == ["session-open"]
    fired = hookdk("fire", "session-close", "--payload", str(saved), cwd=repo)
    assert fired.returncode == 2
    assert "holds the payloads of session-open only" in fired.stderr
    assert forced.returncode == 2 and "no close event" in forced.stderr
