"""A failure that a check rule explains gets one line naming the rule and the fix.

Real hooks, run by the real command: the hint comes from the traceback's lines and the
check's rules over the same script, or from the hook's own words for a missing setting.
"""

from __future__ import annotations

import json

import pytest
from run_hookdk import hookdk

READS_STDIN = "import json, sys\nevent = json.load(sys.stdin)\n"
OPENS_BESIDE = (
    'import os\nprint(open(os.path.join(os.path.dirname(__file__), "conf.json")).read())\n'
)
IMPORTS_SIBLING = "import json\nimport siem_client\n"
F_STRING = 'who = "x"\nprint(f"{{\\"user\\": \\"{who}\\"}}")\n'


@pytest.mark.parametrize(
    ("source", "rule", "fix"),
    [
        (READS_STDIN, "HK304", 'os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"]'),
        (OPENS_BESIDE, "HK306", "embed the data in the hook"),
        (IMPORTS_SIBLING, "HK305", "copy what the hook needs from siem_client"),
    ],
)
def test_fire_names_the_rule_behind_a_traceback(hook_repo, source, rule, fix):
    repo = hook_repo(source)
    repo.write("hoop-hooks/siem_client.py", "def send():\n    pass\n")
    repo.write("hoop-hooks/conf.json", "{}")
    done = hookdk("fire", "session-close", "--repo", str(repo.root))
    assert done.returncode == 1
    [hint] = [line for line in done.stdout.splitlines() if "hint:" in line]
    assert f"hint: {rule}: line 2:" in hint and fix in hint
    result = json.loads(hookdk("fire", "session-close", "--repo", str(repo.root), "--json").stdout)
    assert [h["rule"] for h in result["hints"]] == [rule]


@pytest.mark.parametrize(
    ("source", "hinted"),
    [
        ('import os\ntoken = os.environ["SIEM_TOKEN"]\n', True),
        ('fields = {}\nname = fields["SIEM_TOKEN"]\n', False),  # the hook's own dict
    ],
)
def test_a_key_error_is_a_missing_setting_only_where_the_environment_raised_it(
    hook_repo, source, hinted
):
    repo = hook_repo(source)
    done = hookdk("fire", "session-close", "--repo", str(repo.root), "--json")
    rules = [hint["rule"] for hint in json.loads(done.stdout)["hints"]]
    assert done.returncode == 1
    assert ("setting" in rules) is hinted


def test_a_passing_hook_gets_no_hint(echo_repo):
    done = hookdk("fire", "session-close", "--repo", str(echo_repo.root), "--json")
    assert json.loads(done.stdout)["hints"] == []


def test_a_hook_that_exits_0_after_printing_its_traceback_gets_the_hint(hook_repo):
    source = (
        "import json, sys, traceback\ntry:\n    event = json.load(sys.stdin)\n"
        "except Exception:\n    traceback.print_exc()\n"
    )
    done = hookdk("fire", "session-close", "--repo", str(hook_repo(source).root), "--json")
    result = json.loads(done.stdout)
    assert result["exit_code"] == 0
    assert [hint["rule"] for hint in result["hints"]] == ["HK304"]


def test_session_hints_each_failing_hook(hook_repo):
    repo = hook_repo(READS_STDIN)
    done = hookdk("session", "--repo", str(repo.root))
    assert done.returncode == 1
    assert done.stdout.count("hint: HK304") == 2


def test_a_double_brace_names_the_template_rule(hook_repo):
    repo = hook_repo(F_STRING)
    done = hookdk("fire", "session-close", "--repo", str(repo.root))
    assert done.returncode == 1
    assert "Hoop would not load either hook" in done.stderr
    assert "hookdk: hint: HK201:" in done.stderr and "'{' + '{'" in done.stderr
    as_json = hookdk("fire", "session-close", "--repo", str(repo.root), "--json")
    error = json.loads(as_json.stdout)
    assert error["exit_code"] == 1 and as_json.returncode == 1
    assert error["hints"][0]["rule"] == "HK201"


def test_fuzz_shows_the_hint_with_the_smallest_failure(hook_repo, tmp_path):
    repo = hook_repo(READS_STDIN)
    done = hookdk(
        "fuzz", "session-close", "--repo", str(repo.root), "--examples", "2", "--runner",
        "subprocess", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert "hint: HK304" in done.stdout
