"""docs/commands.md and ``--help`` say the same: every option the help lists is
documented under its command, nothing documented is missing from the help, and a default
the help states is the one the page states.

A command's section lists its own options as ``- `--opt ...`: ...`` bullets, and may
take a shared list ("Takes the [run options](#run-options)", possibly "except `--ref`").
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from hoophooks_dk.cli.app import cli

COMMANDS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "commands.md"
SHARED = {"run options": "Run options", "settings options": "Settings options"}
OPTION = re.compile(r"--[a-z][a-z0-9-]*")


def sections() -> dict[str, str]:
    text = COMMANDS_PAGE.read_text()
    parts = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    return {part.split("\n", 1)[0].strip(): part for part in parts}


def bullets(section: str) -> dict[str, str]:
    """option -> its bullet's text, for every ``- `--opt ...`: ...`` bullet (a bullet
    may run over several lines)."""
    found = {}
    for match in re.finditer(r"^- `([^`]*)`:?(.*?)(?=^- |^\s*$|\Z)", section, re.M | re.S):
        for option in OPTION.findall(match[1]):
            found[option] = " ".join(match[2].split())
    return found


def documented(command: str) -> dict[str, str]:
    """The options docs/commands.md gives ``hookdk command``: its section's, and the
    shared lists it takes."""
    pages = sections()
    names = [name for name in pages if re.fullmatch(rf"hookdk (\w+, )*{command}(, \w+)*", name)]
    assert names, f"docs/commands.md has no section for hookdk {command}"
    section = pages[names[0]]
    if len(names[0].split(",")) > 1:  # a section for several commands: their bullets
        options = {}
        for match in re.finditer(
            rf"^- `hookdk {command} ([^`]*)`:?(.*?)(?=^- |^\s*$|\Z)", section, re.M | re.S
        ):
            options |= {o: " ".join(match[2].split()) for o in OPTION.findall(match[1])}
        return options
    options = bullets(section)
    for shared, title in SHARED.items():
        taken = re.search(
            rf"[Tt]akes\s+the\s+\[{shared}\]\(#[\w-]+\)(?:\s+except\s+((?:`--[\w-]+`,? ?)+))?",
            section,
        )
        if taken:
            excepted = set(OPTION.findall(taken[1] or ""))
            options |= {o: t for o, t in bullets(pages[title]).items() if o not in excepted}
            if shared == "run options":  # the run options take the settings options too
                options |= bullets(pages["Settings options"])
    return options


def helped(command: str) -> dict[str, str]:
    """option -> its help text, for every option ``hookdk command --help`` lists."""
    group = click.Context(cli, info_name="hookdk")
    chosen = cli.get_command(group, command)
    context = click.Context(chosen, info_name=command, parent=group)
    found = {}
    for param in chosen.get_params(context):
        record = param.get_help_record(context) if isinstance(param, click.Option) else None
        if record is None or "--help" in record[0]:
            continue
        for option in OPTION.findall(record[0]):
            found[option] = record[1]
    return found


COMMANDS = cli.list_commands(click.Context(cli))


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_in_help_is_documented_and_nothing_documented_is_absent(command):
    in_help, in_docs = helped(command), documented(command)
    assert sorted(set(in_help) - set(in_docs)) == [], f"undocumented options of {command}"
    assert sorted(set(in_docs) - set(in_help)) == [], f"documented, not in {command} --help"


@pytest.mark.parametrize("command", COMMANDS)
def test_a_default_the_help_states_is_the_one_the_docs_state(command):
    in_docs = documented(command)
    for option, text in helped(command).items():
        for default in re.findall(r"\[default: ([^\]]+)\]", text):
            shown = default.split(";")[0].strip()
            if option in ("--syslog", "--no-syslog"):
                shown = "syslog"  # click shows a boolean flag's default by its name
            assert shown.lower() in in_docs[option].replace("`", "").lower(), (command, option)


def test_every_command_has_a_section():
    titles = " ".join(sections())
    for command in COMMANDS:
        assert re.search(rf"hookdk (\w+, )*{command}\b", titles), command


def test_watch_help_does_not_offer_the_ref_it_refuses():
    assert "--ref" not in helped("watch") and "--ref" in helped("fire")
