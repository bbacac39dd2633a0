"""The fake Hoop API cannot drift: what it answers is checked against the excerpt of
Hoop's OpenAPI shapes, and the excerpt's comparison with Hoop's own file finds changes."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest
from fake_hoop import DATA, FakeHoop, configuration, recorded, repository

sys.path.insert(0, str(DATA))
import compare_with_hoop  # noqa: E402


def hoops_form(excerpt: dict) -> dict:
    """The excerpt as Hoop's generated file writes it: the x-hookdk overlays undone."""
    hoop = copy.deepcopy(excerpt)
    for schema in hoop["components"]["schemas"].values():
        schema.pop("x-hookdk-excerpt", None)
        for name, prop in list(schema.get("properties", {}).items()):
            if "x-hookdk-nullable" in prop:
                schema["properties"][name] = compare_with_hoop.undo_nullable(prop)
            elif "x-hookdk-replaced" in prop:
                schema["properties"][name] = {"items": {"type": "integer"}, "type": "array"}
    return hoop


@pytest.fixture
def excerpt() -> dict:
    return json.loads((DATA / "openapi-excerpt.json").read_text())


def compare(tmp_path: Path, hoop: dict) -> int:
    path = tmp_path / "openapiv3.json"
    path.write_text(json.dumps(hoop))
    return compare_with_hoop.main(["compare_with_hoop.py", str(path)])


def test_the_comparison_finds_a_changed_or_new_field(tmp_path, excerpt, capsys):
    hoop = hoops_form(excerpt)
    assert compare(tmp_path, hoop) == 0
    changed = copy.deepcopy(hoop)
    changed["components"]["schemas"]["openapi.Session"]["properties"]["user"]["type"] = "integer"
    props = changed["components"]["schemas"]["openapi.RunbookRepositoryResponse"]["properties"]
    props["git_branch"] = {"type": "string"}
    assert compare(tmp_path, changed) == 1
    out = capsys.readouterr().out
    assert "openapi.Session.user" in out and "git_branch: in Hoop's file" in out


def test_every_recorded_session_fits_hoops_shapes():
    for path in sorted((DATA / "sessions").glob("*.json")):
        session = recorded(path.stem)
        FakeHoop({f"/sessions/{session['id']}": session}).close()


@pytest.mark.parametrize(
    ("route", "answer"),
    [
        ("/runbooks/configurations", configuration(repository("github.com/a/b", "300"))),
        ("/sessions/x", {**recorded("exec"), "exit_code": "0"}),
        ("/sessions/x", {**recorded("exec"), "event_stream": [[0.1, "x", "aGk="]]}),
        ("/orgs/hide-role-info", {"hide_role_info": "yes"}),
    ],
)
def test_the_fake_refuses_an_answer_hoop_would_not_give(route, answer):
    with pytest.raises(AssertionError, match="do not fit Hoop's shapes"):
        FakeHoop({route: answer})
