"""`hookdk init` never mixes templates, and its "Next" steps match what is on disk."""

from __future__ import annotations

from run_hookdk import hookdk

from hoophooks_dk.scaffold.writer import get_template, plan, template_of, templates

OPEN = "hoop-hooks/session-open.runbook.py"


def test_init_on_another_templates_hooks_is_refused_without_force(runbooks):
    assert hookdk("init", "--template", "slack", str(runbooks.root)).returncode == 0
    slack_hook = (runbooks.root / OPEN).read_bytes()
    done = hookdk("init", "--template", "splunk-hec", str(runbooks.root))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "is the slack template's hook" in done.stderr
    assert "hookdk init --template splunk-hec --force" in done.stderr
    assert (runbooks.root / OPEN).read_bytes() == slack_hook  # nothing written
    assert not any("SPLUNK" in p.read_text() for p in (runbooks.root / "tests").rglob("*.py"))


def test_force_replaces_them_and_next_names_the_new_templates_settings(runbooks):
    hookdk("init", "--template", "slack", str(runbooks.root))
    done = hookdk("init", "--template", "splunk-hec", "--force", str(runbooks.root))
    assert done.returncode == 0, done.stderr
    assert template_of("session-open", (runbooks.root / OPEN).read_bytes()) == "splunk-hec"
    next_steps = done.stdout.split("Next:")[1]
    assert "SPLUNK_HEC_URL" in next_steps and "test values are in hookdk.toml" in next_steps
    assert "SLACK" not in done.stdout
    settings = (runbooks.root / "hookdk.toml").read_text()  # --force: the new template's
    assert "SPLUNK_HEC_TOKEN = " in settings and "SLACK" not in settings


def test_an_edited_hook_is_still_known_by_its_template(runbooks):
    hookdk("init", "--template", "slack", str(runbooks.root))
    hook = runbooks.root / OPEN
    hook.write_text(hook.read_text().replace("import json", "import json  # edited"))
    done = hookdk("init", "--template", "elastic", str(runbooks.root))
    assert done.returncode == 2 and "slack template's hook" in done.stderr


def test_your_own_hooks_are_kept_and_next_says_so(runbooks):
    runbooks.hooks("print('mine')\n", "print('mine too')\n")
    done = hookdk("init", "--template", "splunk-hec", str(runbooks.root))
    assert done.returncode == 0, done.stderr
    assert (runbooks.root / OPEN).read_text() == "print('mine')\n"
    next_steps = done.stdout.split("Next:")[1]
    assert "your own hoop-hooks/session-open.runbook.py and" in next_steps
    assert "not the splunk-hec template's" in next_steps
    assert "SPLUNK_HEC_URL" not in next_steps  # the hooks on disk have no such settings
    assert "hookdk init --tests-only" in next_steps  # tests that fit any hook


def test_rerunning_the_same_template_is_fine(runbooks):
    hookdk("init", "--template", "slack", str(runbooks.root))
    again = hookdk("init", "--template", "slack", str(runbooks.root))
    assert again.returncode == 0 and "unchanged" in again.stdout


def test_every_template_knows_its_own_hooks():
    for template in templates():
        for planned in plan(get_template(template.name), ci="none", tests=False):
            event = planned.path.split("/")[-1].split(".")[0]
            assert template_of(event, planned.content) == template.name
