"""`hookdk demo`: the whole kit in one command, on a fresh machine, with no network.

It makes a throwaway runbooks repository (git init, ``hookdk init``, a commit), then fires
a reviewed session through the committed hooks, as Hoop reads them: session-open, the same
session-open again (Hoop fires it once when the review is requested and once when the
approved session runs), session-close. A ``Capture`` answers every request the hooks make,
so nothing leaves the machine. The result says what Hoop would have recorded and what the
SIEM would have received; the CLI prints it. Nothing here prints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..capture import CapturedRequest
from ..emulator import FireResult
from ..errors import HookdkError
from ..wiring import resolve, run
from .writer import DEFAULT_TEMPLATE, Template, get_template, init

BRANCH = "main"


@dataclass
class DemoRun:
    repo: Path
    template: Template
    ref: str | None  # the branch the hooks were read from; None when git was unavailable
    results: list[FireResult]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def requests(self) -> list[CapturedRequest]:
        """Everything the SIEM received, in order."""
        return [request for result in self.results for request in result.requests or []]

    @property
    def same_open_id(self) -> bool:
        """Whether both session-open runs carried one id: the key a SIEM dedupes on."""
        opens = [result.id for result in self.results if result.event == "session-open"]
        return len(opens) == 2 and opens[0] == opens[1]


def run_demo(workdir: Path, template: str = DEFAULT_TEMPLATE) -> DemoRun:
    """Build a runbooks repo under ``workdir`` and fire one reviewed session through it.

    The hooks get the template's demo settings (``[demo.env]`` in its template.toml), so
    the demo needs no configuration; the caller's environment is otherwise passed on.
    """
    chosen = get_template(template)
    repo = workdir / "runbooks"
    repo.mkdir(parents=True, exist_ok=True)
    has_git = _git_init(repo)
    init(repo, chosen.name)
    ref = _commit(repo) if has_git else None
    env = {**os.environ, **chosen.demo_env}
    with run(repo, resolve(repo), ref=ref, env=env) as emulator:  # as hookdk session
        # a connection with the review plugin (reviewers), the CLI waiting for approval
        results = emulator.session("review-same-stream", reviewers=["dba-team"])
    return DemoRun(repo, chosen, ref, results)


def _git_init(repo: Path) -> bool:
    """A git repository at ``repo``; False when git is not installed (the demo goes on)."""
    try:
        import git
    except ImportError:  # GitPython refuses to import without the git program
        return False
    try:
        git.Repo.init(repo, initial_branch=BRANCH)
    except git.GitCommandError:  # git older than 2.28 has no --initial-branch
        git.Repo.init(repo)
    return True


def _commit(repo: Path) -> str:
    """Commit everything, as a user would before pushing (Hoop runs committed hooks only).

    Returns the branch, which is where the demo reads the hooks from, as Hoop does.
    """
    import git

    author = git.Actor("hookdk demo", "demo@example.com")
    try:
        handle = git.Repo(repo)
        handle.git.add(A=True)
        handle.index.commit("hoop hooks from hookdk init", author=author, committer=author)
    except git.GitCommandError as error:
        raise HookdkError(f"the demo could not commit in {repo}: {error}") from None
    return handle.active_branch.name
