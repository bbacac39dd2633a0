"""`hookdk check --format sarif` is valid SARIF 2.1.0 (the OASIS schema, vendored in
tests/data) with what GitHub code scanning reads; `--format codeclimate` has the fields
GitLab's Code Quality report reads; `--output` writes the report and prints the text."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from run_hookdk import hookdk

from hoophooks_dk.check import (
    RULES,
    formats,  # noqa: F401 (registers every rule, as check does)
)

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())

# A hook with a finding on a known line and column (HK304, `input()` at column 8), one
# without a line (HK102: no close hook) and one about the repository (HK401: no git).
HOOK = "import os\nvalue = input()\n"


def findings_repo(tmp_path: Path) -> Path:
    hooks = tmp_path / "repo" / "hoop-hooks"
    hooks.mkdir(parents=True)
    (hooks / "session-open.runbook.py").write_text(HOOK)
    return tmp_path / "repo"


def test_sarif_validates_against_the_sarif_2_1_0_schema_with_rules_and_places(tmp_path):
    repo = findings_repo(tmp_path)

    done = hookdk("check", "--static", "--format", "sarif", "--repo", str(repo))

    assert done.returncode == 1, done.stderr  # HK304 is an error
    log = json.loads(done.stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "hookdk"
    assert [rule["id"] for rule in driver["rules"]] == list(RULES)
    rule = driver["rules"][list(RULES).index("HK304")]
    assert rule["name"] == "ReadsStdin" and rule["defaultConfiguration"]["level"] == "error"
    assert rule["shortDescription"]["text"] and rule["help"]["text"].startswith("HK304")
    by_rule = {result["ruleId"]: result for result in run["results"]}
    assert set(by_rule) >= {"HK304", "HK102", "HK401"}
    stdin = by_rule["HK304"]
    place = stdin["locations"][0]["physicalLocation"]
    assert place["artifactLocation"]["uri"] == "hoop-hooks/session-open.runbook.py"
    assert place["region"] == {"startLine": 2, "startColumn": 9}
    assert driver["rules"][stdin["ruleIndex"]]["id"] == "HK304"
    for result in run["results"]:  # every result has a file, a line and a column
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
    assert by_rule["HK102"]["level"] == "warning"


def test_codeclimate_has_what_gitlab_reads(tmp_path):
    repo = findings_repo(tmp_path)

    done = hookdk("check", "--static", "--format", "codeclimate", "--repo", str(repo))

    issues = json.loads(done.stdout)
    assert {issue["check_name"] for issue in issues} >= {"HK304", "HK102", "HK401"}
    for issue in issues:
        assert issue["description"].startswith(issue["check_name"])
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert len(issue["fingerprint"]) == 64 and issue["location"]["path"]
        assert issue["location"]["lines"]["begin"] >= 1
    stdin = next(issue for issue in issues if issue["check_name"] == "HK304")
    assert stdin["severity"] == "major" and stdin["location"]["lines"]["begin"] == 2
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)


def test_output_writes_the_report_and_prints_the_text(tmp_path):
    repo = findings_repo(tmp_path)
    report = tmp_path / "hookdk.sarif"

    done = hookdk(
        "check", "--static", "--format", "sarif", "--output", str(report), "--repo", str(repo)
    )

    assert done.returncode == 1
    assert "HK304 error" in done.stdout and done.stdout.rstrip().splitlines()[-1].startswith(
        "hookdk check: 1 error"
    )
    jsonschema.Draft4Validator(SCHEMA).validate(json.loads(report.read_text()))


def test_fingerprints_stay_when_a_line_moves(tmp_path):
    repo = findings_repo(tmp_path)
    first = json.loads(
        hookdk("check", "--static", "--format", "codeclimate", "--repo", str(repo)).stdout
    )
    (repo / "hoop-hooks" / "session-open.runbook.py").write_text("# moved\n" + HOOK)
    moved = json.loads(
        hookdk("check", "--static", "--format", "codeclimate", "--repo", str(repo)).stdout
    )

    def prints(issues):
        return {
            i["check_name"]: (i["fingerprint"], i["location"]["lines"]["begin"]) for i in issues
        }

    assert prints(first)["HK304"][0] == prints(moved)["HK304"][0]
    assert (prints(first)["HK304"][1], prints(moved)["HK304"][1]) == (2, 3)
