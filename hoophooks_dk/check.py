"""``hookdk check``: find what Hoop would silently drop, before you push.

In production a broken hook fails without a word: Hoop skips both hooks when either
file does not load, runs only what is committed and pushed on one branch, and feeds the
script to ``python3`` on stdin, where ``__file__``, ``sys.argv``, stdin and sibling files
are not what the author expects (HOOP_RUNTIME.md sections 1 to 3). Each rule below finds
one such failure and says how to fix it.

Rules have stable ids, grouped by kind: HK1xx files, HK2xx Hoop's template step, HK3xx
the Python that runs, HK4xx git (what Hoop reads), HK5xx a real run of each hook. One
rule is one small function that returns findings; ``check`` runs them all and returns
the findings sorted. Nothing here prints: ``cli_check`` formats.
"""

from __future__ import annotations

import ast
import difflib
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import HookdkError
from .hooks import HOOK_PATHS, MAX_HOOK_BYTES, HookFile, read_hooks
from .runner import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    import git

    from .emulator import FireResult

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")  # most severe first

HOOKS_DIR = "hoop-hooks"
DEFAULT_BRANCHES = ("master", "main")  # Hoop's order when no branch is configured
NEITHER_LOADS = "Hoop loads NEITHER hook while this is so (it only logs a warning)"


# --- rules and findings ----------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        # files: what Hoop finds at its two fixed paths (HOOP_RUNTIME.md section 1)
        Rule("HK101", "error", "session-close hook without a session-open hook"),
        Rule("HK102", "warning", "hook file missing: that event has no hook"),
        Rule("HK103", "error", "hook file under the wrong name or folder: it never runs"),
        Rule("HK104", "warning", "stray copy of a hook file: Hoop never runs it"),
        Rule("HK105", "error", "hook file larger than 1,000,000 bytes"),
        Rule("HK106", "error", "hook file is a symbolic link"),
        Rule("HK107", "error", "too large for the agent's environment: the hook can never start"),
        # template: the file is rendered as a runbook template first (section 2)
        Rule("HK201", "error", "hook file does not render as a Hoop runbook template"),
        Rule("HK202", "info", "line renders differently from the source"),
        Rule("HK203", "warning", "line renders as <no value>"),
        Rule("HK204", "warning", "template construct the kit cannot reproduce yet"),
        # Python: the rendered text runs as `python3` with the script on stdin (section 3)
        Rule("HK301", "error", "rendered script does not compile"),
        Rule("HK302", "warning", "uses __file__, which is '<stdin>' on the agent"),
        Rule("HK303", "warning", "uses sys.argv, which is [''] on the agent"),
        Rule("HK304", "error", "reads standard input, which holds nothing on the agent"),
        Rule("HK305", "error", "imports a file of the repository"),
        Rule("HK306", "error", "opens a file relative to the hook or the working directory"),
        Rule("HK307", "warning", "imports a module the agent may not have"),
        # git: Hoop runs only what is committed and pushed on one branch (section 1)
        Rule("HK401", "warning", "not a git repository"),
        Rule("HK402", "warning", "nothing committed yet"),
        Rule("HK403", "warning", "both master and main exist and no branch is configured"),
        Rule("HK404", "error", "the configured branch does not exist"),
        Rule("HK405", "warning", "neither master nor main exists and no branch is configured"),
        Rule("HK406", "warning", "checked hook differs from what Hoop reads"),
        Rule("HK407", "warning", "branch is ahead of its remote: not pushed"),
        Rule("HK408", "warning", "branch is not on a remote"),
        # dynamic: each hook fired once with a synthetic payload, against the capture
        Rule("HK501", "error", "hook crashes"),
        Rule("HK502", "error", "hook times out"),
        Rule("HK503", "error", "hook sends the connection's secrets out"),
        Rule("HK504", "error", "hook sends its own source out"),
        Rule("HK505", "warning", "hook prints a traceback but exits 0"),
    )
}


@dataclass(frozen=True)
class Finding:
    """One problem: where it is, how bad it is, and the one-line fix."""

    rule: str
    severity: Severity
    message: str
    fix: str
    file: str | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``--format json``: every field, always, in this order."""
        fields = asdict(self)
        return {key: fields[key] for key in ("rule", "severity", "file", "line", "message", "fix")}


def finding(
    rule: str, message: str, fix: str, file: str | None = None, line: int | None = None
) -> Finding:
    return Finding(rule, RULES[rule].severity, message, fix, file, line)


def exit_code(findings: Iterable[Finding], strict: bool = False) -> int:
    """1 when there are errors (warnings too, with ``strict``), else 0."""
    failing = {"error", "warning"} if strict else {"error"}
    return 1 if any(f.severity in failing for f in findings) else 0


# --- the whole check -------------------------------------------------------------------


def check(
    repo: Path,
    *,
    ref: str | None = None,
    branch: str | None = None,
    static: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    python: str = "python3",
    env: Mapping[str, str] | None = None,
    settings_source: str | None = None,
) -> list[Finding]:
    """Every finding for the runbooks repository at ``repo``, sorted by file and line.

    ``ref`` checks the files at that git revision instead of the working tree; ``branch``
    is the branch configured in Hoop (default: master, else main); ``static`` skips
    running the hooks; ``env`` holds settings added to the hooks' environment, and
    ``settings_source`` names the repo's settings file in fixes. Raises ``HookdkError`` for
    a missing ``repo`` or a bad ``ref``.
    """
    repo = Path(repo).resolve()
    if not repo.is_dir():
        raise HookdkError(f"--repo {repo}: no such directory")
    hooks = read_hooks(repo, ref)
    layout = Layout.read(repo, ref, hooks)

    findings = [finding for rule in FILE_RULES for finding in rule(layout)]
    loads = not any(f.rule in ("HK105", "HK201") for f in findings)
    runnable = []  # events whose hook the agent could start
    for hook in layout.present():
        rendered, template_findings = render_hook(hook)
        findings += template_findings
        loads = loads and rendered is not None
        if rendered is not None:
            findings += check_python(Script(hook, rendered, layout.modules))
            too_large = too_large_for_environment(hook, rendered)
            findings += too_large
            if not too_large:
                runnable.append(hook.event)
    findings += check_git(repo, ref, branch)
    if not static and loads and runnable:
        findings += check_dynamic(repo, ref, runnable, timeout, python, env, settings_source)
    return sorted(findings, key=_order)


def _order(f: Finding) -> tuple:
    return (f.file is not None, f.file or "", f.line or 0, f.rule)


# --- files (HK1xx) ---------------------------------------------------------------------


@dataclass
class Layout:
    """The checked files: the two hooks, every file path, symlinks, importable modules."""

    repo: Path
    ref: str | None
    hooks: dict[str, HookFile | None]
    paths: list[str]  # every file, relative to the root, "/"-separated
    symlinks: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, repo: Path, ref: str | None, hooks: dict[str, HookFile | None]) -> Layout:
        if ref is None:
            paths, symlinks = _tree_paths(repo)
        else:
            paths, symlinks = _ref_paths(repo, ref)
        # A case-insensitive disk finds `Hoop-Hooks/...` at Hoop's path; git and Hoop don't.
        exact = {
            event: hook if hook and hook.path in paths else None for event, hook in hooks.items()
        }
        return cls(repo, ref, exact, paths, symlinks)

    def present(self) -> list[HookFile]:
        return [hook for hook in self.hooks.values() if hook is not None]

    @property
    def modules(self) -> frozenset[str]:
        """Names a hook run from the repo could import: .py files and packages beside it."""
        names = set()
        for path in self.paths:
            parts = path.split("/")
            if parts[0] == HOOKS_DIR:
                parts = parts[1:]
            if len(parts) == 1 and parts[0].endswith(".py"):
                names.add(parts[0][:-3])
            elif len(parts) == 2 and parts[1] == "__init__.py":
                names.add(parts[0])
        return frozenset(name for name in names if name.isidentifier())


# The files scanned (for look-alike hooks and importable modules) are the root's and
# those of folders at most MAX_SCAN_DEPTH deep: runbooks repos are shallow, and outside
# git (``cd /tmp && hookdk check``) a deeper walk finds other people's projects.
MAX_SCAN_DEPTH = 2
_SKIPPED_DIRS = {"venv", "node_modules", "site-packages", "__pycache__"}


def _skipped_name(name: str) -> bool:
    """Hidden folders (.git, .venv, .tox...), virtualenvs, installed packages, caches."""
    return name.startswith(".") or name in _SKIPPED_DIRS


def _tree_paths(repo: Path) -> tuple[list[str], set[str]]:
    """Files of the working tree, in the root and folders up to MAX_SCAN_DEPTH deep,
    skipping folders that are another project (see ``_scanned_folder``)."""
    paths, symlinks = [], set()
    for folder, dirs, files in os.walk(repo):
        depth = len(Path(folder).relative_to(repo).parts)
        if depth >= MAX_SCAN_DEPTH:
            dirs[:] = []
        else:
            dirs[:] = sorted(d for d in dirs if _scanned_folder(Path(folder) / d))
        for name in files:
            path = (Path(folder) / name).relative_to(repo).as_posix()
            paths.append(path)
            if (Path(folder) / name).is_symlink():
                symlinks.add(path)
    return sorted(paths), symlinks


def _scanned_folder(folder: Path) -> bool:
    """False for a folder that is not this repository's own: skipped by name, a
    virtualenv, a git repository of its own, or a project with its own hoop-hooks/."""
    if _skipped_name(folder.name):
        return False
    markers = ("pyvenv.cfg", ".git", HOOKS_DIR)
    return not any((folder / marker).exists() for marker in markers)


def _ref_paths(repo: Path, ref: str) -> tuple[list[str], set[str]]:
    """Files at ``ref``, limited as ``_tree_paths`` limits the working tree."""
    import git

    commit = git.Repo(repo).commit(ref)  # read_hooks has already vetted the ref
    blobs = {}
    for item in commit.tree.traverse():
        if item.type == "blob":  # submodules are commits: never scanned
            blobs[item.path] = item.mode == 0o120000
    # Folders below the root that hold a project of their own, or a virtualenv.
    nested = set()
    for path in blobs:
        parts = path.split("/")
        nested |= {"/".join(parts[:i]) for i in range(1, len(parts) - 1) if parts[i] == HOOKS_DIR}
        if len(parts) > 1 and parts[-1] == "pyvenv.cfg":
            nested.add("/".join(parts[:-1]))
    paths = [path for path in blobs if _scanned_path(path, nested)]
    return sorted(paths), {path for path in paths if blobs[path]}


def _scanned_path(path: str, nested: set[str]) -> bool:
    folders = path.split("/")[:-1]
    if len(folders) > MAX_SCAN_DEPTH or any(_skipped_name(name) for name in folders):
        return False
    return not any("/".join(folders[: i + 1]) in nested for i in range(len(folders)))


def close_without_open(layout: Layout) -> list[Finding]:
    """HK101: on close, the gateway logs the open hook's commit: a nil pointer without it."""
    if layout.hooks["session-close"] is None or layout.hooks["session-open"] is not None:
        return []
    return [
        finding(
            "HK101",
            f"{HOOK_PATHS['session-close']} exists but {HOOK_PATHS['session-open']} does not: "
            "on session close the gateway reads the session-open file's commit, "
            "a crash risk in the gateway (HOOP_RUNTIME.md section 1)",
            f"add {HOOK_PATHS['session-open']}, even one that does nothing",
        )
    ]


def missing_hooks(layout: Layout) -> list[Finding]:
    """HK102: a missing file is legal, but that event then reaches no SIEM at all."""
    found = []
    for event, path in HOOK_PATHS.items():
        if event == "session-open" and close_without_open(layout):
            continue  # HK101 says it, as an error
        if layout.hooks[event] is None and not _lookalikes(layout, event):
            found.append(
                finding(
                    "HK102",
                    f"no {path}: Hoop runs no hook on {event}",
                    f"add {path} (`hookdk init` scaffolds both hooks)",
                )
            )
    return found


def misnamed_hooks(layout: Layout) -> list[Finding]:
    """HK103: a file that looks like a hook where Hoop does not read, and no real hook."""
    found = []
    for event, path in HOOK_PATHS.items():
        if layout.hooks[event] is not None:
            continue
        for lookalike in _lookalikes(layout, event):
            found.append(
                finding(
                    "HK103",
                    f"looks like the {event} hook, but Hoop reads only {path} "
                    "(exact name, case and folder): this file never runs",
                    f"git mv {lookalike} {path}",
                    file=lookalike,
                )
            )
    return found


def stray_copies(layout: Layout) -> list[Finding]:
    """HK104: a second, look-alike copy next to a real hook invites editing the wrong one."""
    found = []
    for event, path in HOOK_PATHS.items():
        if layout.hooks[event] is None:
            continue
        for lookalike in _lookalikes(layout, event):
            found.append(
                finding(
                    "HK104",
                    f"looks like the {event} hook, but Hoop runs only {path}: "
                    "edits to this copy have no effect",
                    f"delete {lookalike}, or rename it so it does not look like a hook",
                    file=lookalike,
                )
            )
    return found


def oversized_hooks(layout: Layout) -> list[Finding]:
    """HK105: Hoop refuses files over 1,000,000 bytes, and with one file, both hooks."""
    return [
        finding(
            "HK105",
            f"{len(hook.source):,} bytes, over Hoop's limit of {MAX_HOOK_BYTES:,} "
            f'(gateway log: "max template size [1000 KB] reached"); {NEITHER_LOADS}',
            "move bulky data out of the hook (fetch it at run time, or shrink it)",
            file=hook.path,
        )
        for hook in layout.present()
        if len(hook.source) > MAX_HOOK_BYTES
    ]


def symlinked_hooks(layout: Layout) -> list[Finding]:
    """HK106: git stores a symlink as its target's path, and Hoop runs that text as Python."""
    return [
        finding(
            "HK106",
            "is a symbolic link: Hoop reads the file from git, where a link is stored as "
            "the text of its target path, and runs that text as the hook",
            "replace the link with a regular file holding the hook's code",
            file=hook.path,
        )
        for hook in layout.present()
        if hook.path in layout.symlinks
    ]


FILE_RULES = (
    close_without_open,
    missing_hooks,
    misnamed_hooks,
    stray_copies,
    oversized_hooks,
    symlinked_hooks,
)


def too_large_for_environment(hook: HookFile, rendered: bytes) -> list[Finding]:
    """HK107: the payload carries the rendered hook in ``input_file``, and Linux refuses
    to start a process with one environment string over 128 KiB (MAX_ARG_STRLEN), so the
    agent cannot start ``python3`` for this hook on any event. Measured on the synthetic
    payload the dynamic step would fire (real payloads only add to it)."""
    if len(hook.source) > MAX_HOOK_BYTES:
        return []  # HK105: Hoop does not even load it
    size = payload_environment_size(hook.event, rendered)
    from .emulator import MAX_ENV_STRING

    if size <= MAX_ENV_STRING:
        return []
    return [too_large_finding(hook, size)]


def payload_environment_size(event: str, rendered: bytes) -> int:
    """Bytes HOOP_RUNBOOK_HOOK_PAYLOAD takes in the environment when ``event`` fires this
    rendered script (as ``input_file``, decoded as ``Emulator.fire`` decodes it)."""
    from .emulator import build_payload, environment_size
    from .payload import hoop_json

    payload = build_payload(event, input_file=rendered.decode("utf-8", "replace"))
    return environment_size(hoop_json(payload))


def too_large_finding(hook: HookFile, size: int | None = None, detail: str = "") -> Finding:
    from .emulator import MAX_ENV_STRING

    measured = f"{size:,} bytes" if size is not None else "too large"
    return finding(
        "HK107",
        detail
        or (
            f"the payload is {measured} in the environment, since it carries this hook's "
            f"rendered source in input_file; Linux refuses one variable over "
            f"{MAX_ENV_STRING:,} bytes, so the agent can never start python3 for this hook"
        ),
        "keep the hook well under 128 KiB: move bulky data out (fetch it at run time)",
        file=hook.path,
    )


def _lookalikes(layout: Layout, event: str) -> list[str]:
    """Files that are probably meant to be ``event``'s hook: same name once normalised
    (case, ``_`` or ``-``, ``.runbook``/``.py`` suffixes), in any folder but the right one."""
    wanted = event.replace("-", "")
    return [
        path for path in layout.paths if path != HOOK_PATHS[event] and _hook_key(path) == wanted
    ]


def _hook_key(path: str) -> str:
    name = path.rsplit("/", 1)[-1].lower()
    for suffix in (".txt", ".bak", ".orig", ".py", ".runbook", ".template", ".tmpl"):
        name = name.removesuffix(suffix)
    return re.sub(r"[^a-z]", "", name)


# --- template (HK2xx) ------------------------------------------------------------------


def render_hook(hook: HookFile) -> tuple[bytes | None, list[Finding]]:
    """The text Hoop would send to the agent (None when it fails), and what to say about it."""
    from .render import RenderFailed, render

    try:
        rendered = render(hook.source)
    except RenderFailed as error:
        return None, [template_fails(hook, str(error))]
    except NotImplementedError as error:  # the dialect module never guesses
        return None, [template_unknown(hook, str(error), getattr(error, "line", None))]
    return rendered, [*renders_differently(hook, rendered), *renders_no_value(hook, rendered)]


def template_fails(hook: HookFile, error: str) -> Finding:
    """HK201: Hoop's own error text, placed on the line it names (or the input's action)."""
    if "inputs are missing" in error:
        fix = 'give each input a non-empty default: {{ .name | default "value" }}'
    else:
        fix = (
            "never put two opening braces together in hook code (build such text with "
            "'{' + '{' or json.dumps); `hookdk render` shows Hoop's view"
        )
    return finding(
        "HK201",
        f"Hoop's template step fails: {error}; {NEITHER_LOADS}",
        fix,
        file=hook.path,
        line=_template_error_line(hook.source, error),
    )


def template_unknown(hook: HookFile, reason: str, line: int | None = None) -> Finding:
    """HK204: the kit will not guess what Hoop renders, so nothing after this step is
    checked for this file (and no hook is run)."""
    return finding(
        "HK204",
        f"{reason}; this file's Python and its run were not checked",
        "avoid the construct (hooks rarely need template logic), or test with Hoop itself",
        file=hook.path,
        line=line,
    )


def renders_differently(hook: HookFile, rendered: bytes) -> list[Finding]:
    """HK202: defaults, comments and trim markers change the script: say what runs."""
    return [
        finding(
            "HK202",
            change.describe(),
            "nothing to fix if intended; `hookdk render` shows the whole script Hoop sends",
            file=hook.path,
            line=change.start,
        )
        for change in _render_changes(hook.source, rendered)
        if b"<no value>" not in change.text
    ]


def renders_no_value(hook: HookFile, rendered: bytes) -> list[Finding]:
    """HK203: an action nested in if/with/range that names a missing input prints
    ``<no value>`` instead of failing, so the script runs with that text in it."""
    return [
        finding(
            "HK203",
            f"{change.describe()}: an input with no value, inside a block Hoop does not check",
            "give the input a non-empty default at top level, or drop the block",
            file=hook.path,
            line=change.start,
        )
        for change in _render_changes(hook.source, rendered)
        if b"<no value>" in change.text
    ]


@dataclass(frozen=True)
class Change:
    """Source lines ``start``..``end`` render as ``lines`` (none when removed)."""

    start: int
    end: int
    lines: tuple[bytes, ...]

    @property
    def text(self) -> bytes:
        return b"\n".join(self.lines)

    def describe(self) -> str:
        label = f"line {self.start}" if self.start == self.end else f"lines {self.start}-{self.end}"
        verb = "renders" if self.start == self.end else "render"
        if not self.lines:
            return f"{label} {verb} as nothing (removed)"
        if len(self.lines) == 1:
            shown = _show(self.lines[0])
            return f"{label} {verb} as: {shown}" if shown else f"{label} {verb} as an empty line"
        if not any(line.strip() for line in self.lines):
            return f"{label} {verb} as {len(self.lines)} empty lines"
        first = next(line for line in self.lines if line.strip())
        return f"{label} {verb} as {len(self.lines)} lines, the first with text: {_show(first)}"


def _render_changes(source: bytes, rendered: bytes) -> Iterator[Change]:
    """What each changed part of the source renders as, line by line where possible.

    difflib finds the changed blocks; inside one, a rendered line that is a source line
    with its actions filled in (``A = "{{ .a | default "x" }}"`` -> ``A = "x"``) is paired
    with it, so a header comment followed by defaulted constants reads as one finding per
    line rather than one vague block.
    """
    if source == rendered:
        return
    old, new = source.splitlines(), rendered.splitlines()
    for tag, i1, i2, j1, j2 in _line_opcodes(old, new):
        if tag == "equal":
            continue
        i, j = i1, j1
        for pi, pj in [*_paired_lines(old, new, i1, i2, j1, j2), (i2, j2)]:
            if (i, j) != (pi, pj):  # unpaired lines before this pair (or the block's end)
                yield Change(i + 1, max(pi, i + 1), tuple(new[j:pj]))
            if pi < i2:
                yield Change(pi + 1, pi + 1, (new[pj],))
            i, j = pi + 1, pj + 1


def _line_opcodes(old: list[bytes], new: list[bytes]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes from source lines to rendered lines. Blank lines are "junk": they
    may not anchor the alignment, or a comment that renders as an empty line would pair
    with some unrelated blank line further down."""
    return difflib.SequenceMatcher(_is_blank, old, new, autojunk=False).get_opcodes()


def _is_blank(line: bytes) -> bool:
    return not line.strip()


def _paired_lines(old, new, i1, i2, j1, j2) -> Iterator[tuple[int, int]]:
    """(source index, rendered index), in order, for lines that render one to one."""
    start = i1
    for j in range(j1, j2):
        for i in range(start, i2):
            if _renders_to(old[i], new[j]):
                yield i, j
                start = i + 1
                break


def _renders_to(source_line: bytes, rendered_line: bytes) -> bool:
    """True when ``rendered_line`` is ``source_line`` with its complete actions filled in
    (white space ignored, for trim markers). Lines without literal text never match."""
    parts = [re.sub(rb"\s+", b"", part) for part in re.split(rb"\{\{.*?\}\}", source_line)]
    if len(parts) == 1 or not any(parts):
        return False
    pattern = b".*?".join(re.escape(part) for part in parts)
    return re.fullmatch(pattern, re.sub(rb"\s+", b"", rendered_line), re.S) is not None


def _show(line: bytes, width: int = 100) -> str:
    text = line.decode("utf-8", "replace").strip()
    return text if len(text) <= width else text[: width - 1] + "…"


def _template_error_line(source: bytes, error: str) -> int | None:
    """Go puts the line in its message; Hoop's own errors do not, so find the action."""
    positioned = re.match(r"template: [^:]*:(\d+)", error)
    if positioned:
        return int(positioned.group(1))
    missing = re.search(r"inputs are missing \[([^\]]*)\]", error)
    if missing and missing.group(1).split():
        name = re.escape(missing.group(1).split()[0])
        return _first_line(source, rb"\{\{-?\s*\." + name.encode() + rb"\b")
    if "inconsistent findings" in error:  # an action that does not start with .input
        return _first_line(source, rb"\{\{(?>-?\s*)(?![./]|" + _KEYWORDS + rb")")
    return None


# Control actions are not ActionNodes, so Hoop's "begins with .input" test skips them.
_KEYWORDS = rb"(?:if|else|end|range|with|define|template|block|break|continue)\b"


def _first_line(source: bytes, pattern: bytes) -> int | None:
    match = re.search(pattern, source)
    return source.count(b"\n", 0, match.start()) + 1 if match else None


# --- Python (HK3xx) --------------------------------------------------------------------

# What `python3` on the agent image imports: its 3.12 standard library (the running
# interpreter's list, adjusted for 3.12) plus requests and boto3 and the packages they
# pull in (HOOP_RUNTIME.md section 3).
_REMOVED_IN_312 = {"distutils", "imp", "asynchat", "asyncore", "smtpd"}
_REMOVED_IN_313 = {
    "aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "lib2to3", "mailcap",
    "msilib", "nis", "nntplib", "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau",
    "telnetlib", "uu", "xdrlib",
}  # fmt: skip
AGENT_STDLIB = (frozenset(sys.stdlib_module_names) | _REMOVED_IN_313) - _REMOVED_IN_312
AGENT_PACKAGES = frozenset(
    {"requests", "urllib3", "idna", "certifi", "charset_normalizer"}  # requests 2.32
    | {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six"}  # boto3 1.40
)
AGENT_PYTHON = (3, 12)


@dataclass(frozen=True)
class Script:
    """A rendered hook as Python sees it, with its lines mapped back to the source."""

    hook: HookFile
    rendered: bytes
    modules: frozenset[str]  # repository files a local run could import

    def line(self, rendered_line: int | None) -> int | None:
        """The source line for a line of the rendered script (they differ after trims)."""
        if rendered_line is None or self.rendered == self.hook.source:
            return rendered_line
        return _source_line(self.hook.source, self.rendered, rendered_line)

    def at(self, rule: str, node: ast.AST | int | None, message: str, fix: str) -> Finding:
        line = node if isinstance(node, int) or node is None else node.lineno
        return finding(rule, message, fix, file=self.hook.path, line=self.line(line))


def _source_line(source: bytes, rendered: bytes, line: int) -> int:
    for _tag, i1, i2, j1, j2 in _line_opcodes(source.splitlines(), rendered.splitlines()):
        if j1 < line <= j2:  # rendered line ``line`` is in this block
            return min(i1 + (line - 1 - j1), max(i2 - 1, i1)) + 1
    return line


def check_python(script: Script) -> list[Finding]:
    """HK301 first: the other Python rules need a syntax tree. One finding per rule and
    line (``os.path.dirname(__file__)`` twice on a line is one problem)."""
    try:
        # compile() also runs the checks ast.parse skips (`return` outside a function...)
        compile(script.rendered, "<stdin>", "exec", dont_inherit=True)
        tree = ast.parse(script.rendered, "<stdin>")
    except (SyntaxError, ValueError) as error:  # ValueError: NUL bytes, on Python 3.11
        return [does_not_compile(script, error)]
    guarded = _guarded_imports(tree)
    found = [
        *uses_file_dunder(script, tree),
        *uses_argv(script, tree),
        *reads_stdin(script, tree),
        *imports_repo_files(script, tree, guarded),
        *opens_repo_files(script, tree),
        *imports_missing_modules(script, tree, guarded),
    ]
    return _first_per_line(found)


def _first_per_line(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, int | None]] = set()
    kept = []
    for f in findings:
        if (f.rule, f.line) not in seen:
            seen.add((f.rule, f.line))
            kept.append(f)
    return kept


def does_not_compile(script: Script, error: SyntaxError | ValueError) -> Finding:
    """HK301: ``compile(text, "<stdin>", "exec")`` as ``python3`` on the agent would."""
    line = error.lineno if isinstance(error, SyntaxError) else None
    reason = error.msg if isinstance(error, SyntaxError) else str(error)
    where = f" (Python {sys.version_info[0]}.{sys.version_info[1]} here; the agent runs 3.12)"
    note = where if sys.version_info[:2] != AGENT_PYTHON else ""
    shown = f"line {line} of the rendered script" if script.line(line) != line else "the script"
    return script.at(
        "HK301",
        line,
        f"{shown} does not compile: {reason}{note}; the hook fails on every event",
        "fix the syntax; `hookdk render` shows the exact text python3 receives",
    )


def uses_file_dunder(script: Script, tree: ast.Module) -> list[Finding]:
    """HK302: the script comes on stdin, so ``__file__`` names no file of the repo."""
    return [
        script.at(
            "HK302",
            node,
            "__file__ is '<stdin>' on the agent: paths built from it point into the "
            "agent's working directory, not the repository",
            "do not locate files through __file__: put the data in the hook itself",
        )
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id == "__file__"
    ]


def uses_argv(script: Script, tree: ast.Module) -> list[Finding]:
    """HK303: Hoop passes no arguments; everything comes in HOOP_RUNBOOK_HOOK_PAYLOAD."""
    return [
        script.at(
            "HK303",
            node,
            "sys.argv is [''] on the agent: Hoop passes no arguments",
            'read the event from os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"]',
        )
        for node in _uses_of(tree, "sys", "argv")
    ]


def reads_stdin(script: Script, tree: ast.Module) -> list[Finding]:
    """HK304: stdin carried the script itself and is at its end when the script runs."""
    readers = [*_uses_of(tree, "sys", "stdin"), *_uses_of(tree, "sys", "__stdin__")]
    readers += [node for node in ast.walk(tree) if _reads_stdin(node)]
    return [
        script.at(
            "HK304",
            node,
            "reads standard input, which held the script and is empty when it runs "
            "(input() raises EOFError, sys.stdin.read() returns '')",
            'read the event from os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"]',
        )
        for node in sorted(readers, key=lambda n: n.lineno)
    ]


def imports_repo_files(script: Script, tree: ast.Module, guarded: set[ast.AST]) -> list[Finding]:
    """HK305: only the rendered text reaches the agent; the repository is not there."""
    found = []
    for node, module in _imports(tree):
        if node in guarded:
            continue
        if module.startswith("."):
            message = f"relative import `from {module} ...`: the script has no package on the agent"
        elif module.split(".")[0] in script.modules and module.split(".")[0] not in AGENT_STDLIB:
            name = module.split(".")[0]
            message = (
                f"imports {name}, a file of this repository: only the hook's own text "
                "reaches the agent, so the import fails there (ModuleNotFoundError)"
            )
        else:
            continue
        found.append(
            script.at("HK305", node, message, f"copy what the hook needs from {module} into it")
        )
    return found


def opens_repo_files(script: Script, tree: ast.Module) -> list[Finding]:
    """HK306: a relative or ``__file__``-based path resolves in the agent's working
    directory, where no file of the repository exists."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _opens_repo_file(node):
            found.append(
                script.at(
                    "HK306",
                    node,
                    f"{_call_name(node)}({_arg_text(node)}) reads a file beside the hook, "
                    "but on the agent the repository is not there",
                    "embed the data in the hook, or fetch it from a URL at run time",
                )
            )
    return found


def imports_missing_modules(
    script: Script, tree: ast.Module, guarded: set[ast.AST]
) -> list[Finding]:
    """HK307: the agent image has the standard library, requests and boto3, no more."""
    found = []
    for node, module in _imports(tree):
        name = module.split(".")[0]
        if (
            node in guarded
            or module.startswith(".")
            or name in AGENT_STDLIB
            or name in AGENT_PACKAGES
            or name in script.modules
        ):
            continue
        if name in _REMOVED_IN_312:
            why = f"{name} was removed from the standard library in Python 3.12, the agent's"
        else:
            why = f"{name} is neither standard library nor requests/boto3, all the agent image has"
        found.append(
            script.at(
                "HK307",
                node,
                f"imports {module}: {why}; the hook fails where it is missing",
                "use the standard library (urllib.request, json), or requests",
            )
        )
    return found


def _imports(tree: ast.Module) -> Iterator[tuple[ast.AST, str]]:
    """(statement, module) for every import; relative ones start with dots."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom):
            yield node, "." * node.level + (node.module or "")


def _guarded_imports(tree: ast.Module) -> set[ast.AST]:
    """Imports inside ``try`` blocks that catch ImportError: the author planned for absence."""
    catching = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
    guarded: set[ast.AST] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        caught = set()
        for handler in node.handlers:
            kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            caught |= {"BaseException" if k is None else _dotted(k).split(".")[-1] for k in kinds}
        if caught & catching:
            for statement in node.body:
                guarded |= {
                    n for n in ast.walk(statement) if isinstance(n, ast.Import | ast.ImportFrom)
                }
    return guarded


def _uses_of(tree: ast.Module, module: str, attribute: str) -> Iterator[ast.AST]:
    """``module.attribute`` and ``from module import attribute`` (with its later uses)."""
    imported_as = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == module and node.level == 0:
            for alias in node.names:
                if alias.name == attribute:
                    imported_as.add(alias.asname or alias.name)
                    yield node
    for node in ast.walk(tree):
        is_attribute = isinstance(node, ast.Attribute) and node.attr == attribute
        if is_attribute and _dotted(node.value) == module:
            yield node
        if isinstance(node, ast.Name) and node.id in imported_as and isinstance(node.ctx, ast.Load):
            yield node


_PATH_CALLS = {"Path", "pathlib.Path", "PurePath", "pathlib.PurePath"}
_OPEN_CALLS = {"open", "io.open", "codecs.open"}
_WRITE_MODES = set("wax")


def _opens_repo_file(call: ast.Call) -> bool:
    name = _call_name(call)
    if name not in _PATH_CALLS | _OPEN_CALLS or not call.args:
        return False
    target = call.args[0]
    if any(isinstance(n, ast.Name) and n.id == "__file__" for n in ast.walk(target)):
        return True
    if not _is_relative_path(target):
        return False
    return name in _PATH_CALLS or not (_open_mode(call) & _WRITE_MODES)


def _open_mode(call: ast.Call) -> set[str]:
    mode = call.args[1] if len(call.args) > 1 else None
    mode = next((k.value for k in call.keywords if k.arg == "mode"), mode)
    return (
        set(mode.value) if isinstance(mode, ast.Constant) and isinstance(mode.value, str) else set()
    )


def _is_relative_path(node: ast.AST) -> bool:
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return False
    return bool(node.value) and not node.value.startswith(("/", "~"))


def _reads_stdin(node: ast.AST) -> bool:
    """``input()``, ``fileinput.input()`` with no files, ``open(0)``, ``open("/dev/stdin")``."""
    if not isinstance(node, ast.Call):
        return False
    name = _call_name(node)
    if name in ("input", "fileinput.input"):
        return not node.args if name == "fileinput.input" else True
    return name in ("open", "io.open") and bool(node.args) and _is_stdin_path(node.args[0])


def _is_stdin_path(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in (0, "/dev/stdin", "-")


def _call_name(call: ast.Call) -> str:
    return _dotted(call.func)


def _dotted(node: ast.AST | None) -> str:
    """``a.b.c`` for a chain of names, "" for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _arg_text(call: ast.Call) -> str:
    text = ast.unparse(call.args[0]) if call.args else ""
    return text if len(text) <= 60 else text[:59] + "…"


# --- git (HK4xx) -----------------------------------------------------------------------


@dataclass
class GitView:
    """What Hoop would read: the branch, and its tip as the remote has it (if any)."""

    repo: git.Repo
    root: Path
    ref: str | None
    configured: str | None  # --branch
    remote: git.Remote | None
    names: list[str]  # branch names where Hoop looks: the remote's if any, else local
    branch: str | None  # the branch Hoop reads, when one exists
    tip: git.Commit | None  # that branch's commit on the remote (else local)
    tip_label: str = ""


def check_git(root: Path, ref: str | None, configured: str | None) -> list[Finding]:
    """HK401 when there is no repository, else every git rule on one view of it."""
    view = _git_view(root, ref, configured)
    if isinstance(view, Finding):
        return [view]
    if not view.repo.heads and not view.names:
        return no_commits(view)
    return [finding for rule in GIT_RULES for finding in rule(view)]


def _git_view(root: Path, ref: str | None, configured: str | None) -> GitView | Finding:
    import git

    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return not_a_repository(root, None)
    top = Path(repo.working_tree_dir or root).resolve()
    if top != root:
        return not_a_repository(root, top)
    remote = _remote(repo)
    pushed = _remote_branches(repo, remote) if remote else []
    local = [head.name for head in repo.heads]
    wanted = [configured] if configured else list(DEFAULT_BRANCHES)
    # Hoop reads the remote; a branch that exists only here is still the one meant (HK408).
    branch = next((name for name in wanted if name in pushed), None)
    branch = branch or next((name for name in wanted if name in local), None)
    view = GitView(repo, root, ref, configured, remote, pushed or local, branch, None)
    if branch is not None:
        view.tip_label = f"{remote.name}/{branch}" if branch in pushed else branch
        view.tip = repo.commit(view.tip_label)
    return view


def _remote(repo: git.Repo) -> git.Remote | None:
    """Hoop clones one URL; locally that is `origin`, or the only remote there is."""
    names = [remote.name for remote in repo.remotes]
    if "origin" in names:
        return repo.remote("origin")
    return repo.remotes[0] if names else None


def _remote_branches(repo: git.Repo, remote: git.Remote) -> list[str]:
    """Branch names on ``remote`` as of the last fetch (no network: check stays offline)."""
    import git

    return [
        ref.remote_head
        for ref in repo.references
        if isinstance(ref, git.RemoteReference)
        and ref.remote_name == remote.name
        and ref.remote_head != "HEAD"
    ]


def not_a_repository(root: Path, top: Path | None) -> Finding:
    """HK401: Hoop reads hooks only from a git repository's root, committed and pushed."""
    if top is None:
        message = f"{root} is not a git repository: Hoop reads hooks only from one"
        fix = "git init, commit hoop-hooks/, push it to the repository Hoop is configured with"
    else:
        message = f"{root} is inside the git repository {top}, not at its root: Hoop reads {HOOKS_DIR}/ at the root"
        fix = f"run hookdk check --repo {top}, or move {HOOKS_DIR}/ to the root"
    return finding("HK401", message, fix)


def no_commits(view: GitView) -> list[Finding]:
    """HK402: a new repository has no branch yet, so Hoop has nothing to read."""
    return [
        finding(
            "HK402",
            "the repository has no commits: Hoop runs only committed, pushed hooks",
            f"git add {HOOKS_DIR} && git commit, then push",
        )
    ]


def ambiguous_default_branch(view: GitView) -> list[Finding]:
    """HK403: with no branch configured, Hoop takes the first of master or main that its
    reference listing yields, and go-git lists an in-memory clone's references in Go's
    (random) map order: with both present, either may be read, fetch after fetch."""
    if view.configured or not all(name in view.names for name in DEFAULT_BRANCHES):
        return []
    where = view.remote.name if view.remote else "this repository"
    return [
        finding(
            "HK403",
            f"both master and main exist on {where} and no branch is configured: "
            "Hoop may read either, and may switch on each refresh (checked here: master)",
            "configure the branch in Hoop's runbooks settings and pass --branch, or delete one",
        )
    ]


def configured_branch_missing(view: GitView) -> list[Finding]:
    """HK404: Hoop fails the fetch ("branch ref not found") and runs no hook at all."""
    if not view.configured or view.branch is not None:
        return []
    where = view.remote.name if view.remote else "this repository"
    return [
        finding(
            "HK404",
            f"branch {view.configured} is not on {where}: Hoop finds no branch and runs no hook",
            f"push {view.configured}, or pass the branch configured in Hoop",
        )
    ]


def no_default_branch(view: GitView) -> list[Finding]:
    """HK405: without a configured branch Hoop looks only for master and main."""
    if view.configured or view.branch is not None:
        return []
    where = view.remote.name if view.remote else "this repository"
    return [
        finding(
            "HK405",
            f"{where} has neither master nor main: unless a branch is configured in Hoop, "
            "Hoop finds no branch and runs no hook",
            "pass --branch with the branch configured in Hoop, or push a main branch",
        )
    ]


def differs_from_hoop(view: GitView) -> list[Finding]:
    """HK406: what you test is not what Hoop runs until it is committed and pushed."""
    if view.tip is None:
        return []
    checked = "at " + view.ref if view.ref else "in the working tree"
    tip = f"{view.tip_label} ({view.tip.hexsha[:8]})"
    found = []
    for path in HOOK_PATHS.values():
        mine, hoops = _checked_bytes(view, path), _blob_bytes(view.tip, path)
        if mine == hoops:
            continue
        if hoops is None:
            message = f"exists {checked} but not on {tip}: Hoop does not run it yet"
        elif mine is None:
            message = f"is absent {checked} but {tip} still has it: Hoop keeps running it"
        else:
            message = f"differs {checked} from {tip}, which is what Hoop runs"
        found.append(finding("HK406", message, "commit and push it", file=path))
    return found


def ahead_of_remote(view: GitView) -> list[Finding]:
    """HK407: local commits on Hoop's branch that the remote (so Hoop) does not have."""
    local = _local_head(view)
    upstream = _upstream(view, local)
    if local is None or upstream is None:
        return []
    ahead = sum(1 for _ in view.repo.iter_commits(f"{upstream}..{local.name}"))
    if not ahead:
        return []
    return [
        finding(
            "HK407",
            f"{local.name} is {ahead} commit(s) ahead of {upstream}: Hoop still runs {upstream}",
            f"git push {upstream.split('/', 1)[0]} {local.name}",
        )
    ]


def not_on_remote(view: GitView) -> list[Finding]:
    """HK408: Hoop clones from a remote; a branch that exists only here is invisible."""
    local = _local_head(view)
    if local is None or _upstream(view, local) is not None:
        return []
    if view.remote is None:
        message = (
            f"no remote: Hoop clones the runbooks repository, and {local.name} exists only here"
        )
        fix = f"git remote add origin URL && git push -u origin {local.name}"
    else:
        message = (
            f"{local.name} is not on {view.remote.name} (as of the last fetch): Hoop cannot read it"
        )
        fix = f"git push -u {view.remote.name} {local.name}"
    return [finding("HK408", message, fix)]


GIT_RULES = (
    ambiguous_default_branch,
    configured_branch_missing,
    no_default_branch,
    differs_from_hoop,
    ahead_of_remote,
    not_on_remote,
)


def _local_head(view: GitView) -> git.Head | None:
    if view.branch is None:
        return None
    return next((head for head in view.repo.heads if head.name == view.branch), None)


def _upstream(view: GitView, local: git.Head | None) -> str | None:
    """The remote-tracking branch of ``local``: configured, else the remote's same name."""
    if local is None:
        return None
    tracking = local.tracking_branch()
    if tracking is not None and tracking.is_valid():
        return tracking.name
    if view.remote is not None and local.name in _remote_branches(view.repo, view.remote):
        return f"{view.remote.name}/{local.name}"
    return None


def _checked_bytes(view: GitView, path: str) -> bytes | None:
    """The checked file as git would store it (a symlink is its target's path)."""
    if view.ref is not None:
        return _blob_bytes(view.repo.commit(view.ref), path)
    file = view.root / path
    if file.is_symlink():
        return os.readlink(file).encode()
    return file.read_bytes() if file.is_file() else None


def _blob_bytes(commit: git.Commit, path: str) -> bytes | None:
    try:
        return (commit.tree / path).data_stream.read()
    except KeyError:
        return None


# --- dynamic (HK5xx) -------------------------------------------------------------------


def check_dynamic(
    repo: Path,
    ref: str | None,
    events: list[str],
    timeout: float,
    python: str,
    env: Mapping[str, str] | None = None,
    settings_source: str | None = None,
) -> list[Finding]:
    """Fire each present hook once, as Hoop would, with the capture standing in for the
    SIEM: every request is answered locally, none leaves the machine."""
    from .capture import Capture
    from .emulator import Emulator
    from .errors import PayloadError
    from .runner import SubprocessRunner
    from .stand_in import answer_token_requests

    found = []
    with Capture(syslog=True) as capture:  # syslog hooks find it through HOOKDK_SYSLOG_*
        answer_token_requests(capture.router)  # a hook that asks for a token gets one
        emulator = Emulator(
            repo,
            ref=ref,
            timeout=timeout,
            runner=SubprocessRunner(python),
            capture=capture,
            extra_env=dict(env or {}),
        )
        hooks = read_hooks(repo, ref)
        for event in events:
            hook = hooks[event]
            try:
                result = emulator.fire(event)
            except PayloadError as error:  # near HK107's limit, a payload may tip over it
                found.append(too_large_finding(hook, detail=str(error)))
                continue
            found += [f for rule in DYNAMIC_RULES for f in rule(result, hook)]
    return [_name_missing_setting(f, settings_source) for f in found]


def _name_missing_setting(f: Finding, settings_source: str | None) -> Finding:
    """HK501 for a hook that stopped on a missing setting: the fix is to give it."""
    if f.rule != "HK501":
        return f
    from .hints import missing_setting

    hint = missing_setting(f.message, settings_source)
    if hint is None:
        return f
    return Finding(f.rule, f.severity, f.message, hint.fix, f.file, f.line)


def crashes(result: FireResult, hook: HookFile) -> list[Finding]:
    """HK501: a non-zero exit is only logged by Hoop; the event never reaches the SIEM."""
    if result.timed_out or result.exit_code == 0:
        return []
    last = _last_line(result)
    return [
        _at_traceback(
            "HK501",
            result,
            hook,
            f"{result.event} exits {result.exit_code} on a synthetic payload"
            + (f": {last}" if last else ""),
            f"run `hookdk fire {result.event}` to see the whole output",
        )
    ]


def times_out(result: FireResult, hook: HookFile) -> list[Finding]:
    """HK502: past 15 s the gateway stops waiting and records exit code -2."""
    if not result.timed_out:
        return []
    return [
        finding(
            "HK502",
            f"{result.event} did not finish within {result.run.duration:.1f} s "
            "(Hoop waits 15 s, then records exit code -2)",
            "set short timeouts on every network call (e.g. timeout=5) and avoid retries loops",
            file=hook.path,
        )
    ]


def leaks_secrets(result: FireResult, hook: HookFile) -> list[Finding]:
    """HK503: ``connection_envs`` holds the connection's credentials."""
    return _leak_findings("HK503", result, hook, lambda label: label != "input_file")


def leaks_source(result: FireResult, hook: HookFile) -> list[Finding]:
    """HK504: ``input_file`` is the hook's own source (it may hold tokens or URLs)."""
    return _leak_findings("HK504", result, hook, lambda label: label == "input_file")


def silent_traceback(result: FireResult, hook: HookFile) -> list[Finding]:
    """HK505: a swallowed exception is a failure Hoop records as success. A traceback the
    hook only copied from the payload (a session's error output) is not the hook's: the
    same test as ``hookdk fuzz`` (``fuzz.own_traceback``)."""
    if result.exit_code != 0 or result.timed_out or _TRACEBACK not in result.run.raw_output:
        return []
    from .fuzz import own_traceback  # imports Hypothesis: only when a traceback is there

    output = result.run.raw_output.decode("utf-8", "replace")
    traceback = own_traceback(output, result.payload)
    if traceback is None:
        return []
    exception = _show(traceback.splitlines()[-1].encode(), 160)
    return [
        _at_traceback(
            "HK505",
            result,
            hook,
            f"{result.event} prints a traceback but exits 0: Hoop records success: {exception}",
            "let the exception propagate (or sys.exit(1)) so the failure shows in Hoop's log",
            traceback.encode(),
        )
    ]


DYNAMIC_RULES = (crashes, times_out, leaks_secrets, leaks_source, silent_traceback)


def _leak_findings(rule: str, result: FireResult, hook: HookFile, wanted) -> list[Finding]:
    from . import payload as payloads
    from .leaks import find_leaks

    leaks = find_leaks(result.sent, payloads.canaries(result.payload))
    by_label: dict[str, list] = {}
    for leak in leaks:
        if wanted(leak.label):
            by_label.setdefault(leak.label, []).append(leak)
    found = []
    line = _sending_line(result, hook) if by_label else None
    for label, group in by_label.items():
        first = group[0]
        more = f" (and {len(group) - 1} more place(s))" if len(group) > 1 else ""
        what = "its own source (input_file)" if label == "input_file" else f"payload {label}"
        found.append(
            finding(
                rule,
                f"{result.event} sends {what} ({first.form}) in the {first.where} of "
                f"{_sent_as(first.request)}{more}",
                "forward only the fields the SIEM needs; drop connection_envs and input_file",
                file=hook.path,
                line=line,
            )
        )
    return found


def _sent_as(sent) -> str:
    """An HTTP request as ``METHOD URL``, a syslog message as ``syslog message #N (tcp)``."""
    if hasattr(sent, "method"):
        return f"{sent.method} {sent.url}"
    return f"syslog message #{sent.index} ({sent.transport})"


# Calls that send a request: urllib, http.client, requests, httpx, sockets, or a curl/wget
# process. The first one in the script is where a leak most likely leaves.
_SENDERS = {"urlopen", "post", "put", "patch", "request", "send", "sendall", "stream"}
_PROCESS_CALLS = {"run", "Popen", "call", "check_call", "check_output", "system"}
_HTTP_TOOLS = {"curl", "wget"}


def _sending_line(result: FireResult, hook: HookFile) -> int | None:
    """The source line of the script's first call that sends a request, if one is found."""
    rendered = str(result.payload.get("input_file", "")).encode("utf-8", "surrogateescape")
    try:
        tree = ast.parse(rendered or hook.source, "<stdin>")
    except (SyntaxError, ValueError):
        return None
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else _dotted(func)
        if name in _SENDERS or (name in _PROCESS_CALLS and _runs_http_tool(node)):
            lines.append(node.lineno)
    if not lines:
        return None
    return Script(hook, rendered or hook.source, frozenset()).line(min(lines))


def _runs_http_tool(call: ast.Call) -> bool:
    return any(
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.split(" ", 1)[0] in _HTTP_TOOLS
        for node in ast.walk(call)
    )


_TRACEBACK = b"Traceback (most recent call last):"
_TRACEBACK_LINE = re.compile(rb'File "<stdin>", line (\d+)')


def _last_line(result: FireResult) -> str:
    lines = [line for line in result.run.raw_output.splitlines() if line.strip()]
    return _show(lines[-1], 160) if lines else ""


def _at_traceback(
    rule: str,
    result: FireResult,
    hook: HookFile,
    message: str,
    fix: str,
    traceback: bytes | None = None,
) -> Finding:
    """A finding on the source line of the deepest ``<stdin>`` frame, if there is one
    (in ``traceback`` when given, else in the whole output)."""
    frames = _TRACEBACK_LINE.findall(result.run.raw_output if traceback is None else traceback)
    line = None
    if frames:
        rendered = str(result.payload.get("input_file", "")).encode()
        script = Script(hook, rendered or hook.source, frozenset())
        line = script.line(int(frames[-1]))
    return finding(rule, message, fix, file=hook.path, line=line)
