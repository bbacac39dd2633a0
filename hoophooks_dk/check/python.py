"""Python (HK3xx): the rendered text runs as ``python3`` with the script on stdin.

On the agent the script arrives on standard input (docs/hoop-runtime.md section 3): its
``__file__`` is ``'<stdin>'``, ``sys.argv`` is ``['']``, stdin is at its end, and none of
the repository's other files are there. HK301 runs first (the other rules need a syntax
tree); every other rule takes the ``Script``, whose ``tree`` and ``guarded`` imports are
parsed once, and returns problems placed with ``script.at(node, message, fix)``.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from ..hooks import HookFile
from ..payload import PAYLOAD_VARIABLE
from ..runtime.agent import agent_modules, agent_packages
from .registry import Finding, Problem, family_rules, rule
from .template import line_opcodes

# What `python3` on the agent image imports: its 3.12 standard library (the running
# interpreter's list, adjusted for 3.12) plus the agent image's packages, requests and
# boto3 and what they pull in, as the agent runtime pins them (docs/agent-runtime.md).
_REMOVED_IN_312 = {"distutils", "imp", "asynchat", "asyncore", "smtpd"}
_REMOVED_IN_313 = {
    "aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "lib2to3", "mailcap",
    "msilib", "nis", "nntplib", "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau",
    "telnetlib", "uu", "xdrlib",
}  # fmt: skip
AGENT_STDLIB = (frozenset(sys.stdlib_module_names) | _REMOVED_IN_313) - _REMOVED_IN_312
AGENT_PACKAGES = agent_modules()
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

    def at(self, node: ast.AST | int | None, message: str, fix: str) -> Problem:
        """A problem on ``node``'s line (a rendered line number), mapped to the source,
        and at its column when the line renders unchanged (``col_offset`` counts UTF-8
        bytes, as SARIF's default column unit does not: characters are counted here)."""
        if isinstance(node, int) or node is None:
            return Problem(message, fix, file=self.hook.path, line=self.line(node))
        line = self.line(node.lineno)
        return Problem(message, fix, file=self.hook.path, line=line, column=self._column(node))

    def _column(self, node: ast.AST) -> int | None:
        """``node``'s 1-based column in characters, when its line is the source's own."""
        lines = self.rendered.splitlines()
        if not 0 < node.lineno <= len(lines):
            return None
        text = lines[node.lineno - 1]
        source_line = self.line(node.lineno)
        source_lines = self.hook.source.splitlines()
        if source_line is None or source_lines[source_line - 1 : source_line] != [text]:
            return None
        return len(text[: node.col_offset].decode("utf-8", "replace")) + 1

    @cached_property
    def tree(self) -> ast.Module:
        """The syntax tree, in the agent's grammar (only read once HK301 found that the
        script compiles): syntax newer than Python 3.12 is refused whatever runs the kit."""
        return ast.parse(self.rendered, "<stdin>", feature_version=AGENT_PYTHON)

    @cached_property
    def guarded(self) -> set[ast.AST]:
        """Imports inside ``try`` blocks that catch ImportError."""
        return _guarded_imports(self.tree)


def _source_line(source: bytes, rendered: bytes, line: int) -> int:
    for _tag, i1, i2, j1, j2 in line_opcodes(source.splitlines(), rendered.splitlines()):
        if j1 < line <= j2:  # rendered line ``line`` is in this block
            return min(i1 + (line - 1 - j1), max(i2 - 1, i1)) + 1
    return line


def check_python(script: Script) -> list[Finding]:
    """HK301 first: the other Python rules need a syntax tree. One finding per rule and
    line (``os.path.dirname(__file__)`` twice on a line is one problem)."""
    try:
        # parsed in the agent's grammar, then compiled: compile() also runs the checks
        # ast.parse skips (`return` outside a function...)
        compile(script.tree, "<stdin>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:  # ValueError: NUL bytes, on Python 3.11
        return does_not_compile(script, error)
    return _first_per_line([f for each in family_rules("python") for f in each(script)])


def _first_per_line(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, int | None]] = set()
    kept = []
    for f in findings:
        if (f.rule, f.line) not in seen:
            seen.add((f.rule, f.line))
            kept.append(f)
    return kept


@rule("HK301", "error", "rendered script does not compile", automatic=False)
def does_not_compile(script: Script, error: SyntaxError | ValueError) -> Problem:
    """HK301: ``compile(text, "<stdin>", "exec")`` as ``python3`` on the agent would."""
    line = error.lineno if isinstance(error, SyntaxError) else None
    reason = error.msg if isinstance(error, SyntaxError) else str(error)
    where = f" (Python {sys.version_info[0]}.{sys.version_info[1]} here; the agent runs 3.12)"
    note = where if sys.version_info[:2] < AGENT_PYTHON else " (in Python 3.12, the agent's)"
    shown = f"line {line} of the rendered script" if script.line(line) != line else "the script"
    return script.at(
        line,
        f"{shown} does not compile: {reason}{note}; the hook fails on every event",
        "fix the syntax; `hookdk render` shows the exact text python3 receives",
    )


@rule("HK302", "warning", "uses __file__, which is '<stdin>' on the agent")
def uses_file_dunder(script: Script) -> list[Problem]:
    """HK302: the script comes on stdin, so ``__file__`` names no file of the repo."""
    return [
        script.at(
            node,
            "__file__ is '<stdin>' on the agent: paths built from it point into the "
            "agent's working directory, not the repository",
            "do not locate files through __file__: put the data in the hook itself",
        )
        for node in ast.walk(script.tree)
        if isinstance(node, ast.Name) and node.id == "__file__"
    ]


@rule("HK303", "warning", "uses sys.argv, which is [''] on the agent")
def uses_argv(script: Script) -> list[Problem]:
    """HK303: Hoop passes no arguments; everything comes in HOOP_RUNBOOK_HOOK_PAYLOAD."""
    return [
        script.at(
            node,
            "sys.argv is [''] on the agent: Hoop passes no arguments",
            'read the event from os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"]',
        )
        for node in _uses_of(script.tree, "sys", "argv")
    ]


@rule("HK304", "error", "reads standard input, which holds nothing on the agent")
def reads_stdin(script: Script) -> list[Problem]:
    """HK304: stdin carried the script itself and is at its end when the script runs."""
    readers = [*_uses_of(script.tree, "sys", "stdin"), *_uses_of(script.tree, "sys", "__stdin__")]
    readers += [node for node in ast.walk(script.tree) if _reads_stdin(node)]
    return [
        script.at(
            node,
            "reads standard input, which held the script and is empty when it runs "
            "(input() raises EOFError, sys.stdin.read() returns '')",
            'read the event from os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"]',
        )
        for node in sorted(readers, key=lambda n: n.lineno)
    ]


@rule("HK305", "error", "imports a file of the repository")
def imports_repo_files(script: Script) -> list[Problem]:
    """HK305: only the rendered text reaches the agent; the repository is not there."""
    found = []
    for node, module in _imports(script.tree):
        if node in script.guarded:
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
        found.append(script.at(node, message, f"copy what the hook needs from {module} into it"))
    return found


@rule("HK306", "error", "opens a file relative to the hook or the working directory")
def opens_repo_files(script: Script) -> list[Problem]:
    """HK306: a relative or ``__file__``-based path resolves in the agent's working
    directory, where no file of the repository exists."""
    found = []
    for node in ast.walk(script.tree):
        if isinstance(node, ast.Call) and _opens_repo_file(node):
            found.append(
                script.at(
                    node,
                    f"{_call_name(node)}({_arg_text(node)}) reads a file beside the hook, "
                    "but on the agent the repository is not there",
                    "embed the data in the hook, or fetch it from a URL at run time",
                )
            )
    return found


@rule("HK307", "error", "imports a module the agent runtime does not have")
def imports_missing_modules(script: Script) -> list[Problem]:
    """HK307: the agent image has the standard library and its pip packages, boto3 and
    requests and what they pull in (``runtime/agent_packages.txt``), and nothing else:
    the import fails on every session (the agent runtime fails it locally too)."""
    found = []
    for node, module in _imports(script.tree):
        name = module.split(".")[0]
        if (
            node in script.guarded
            or module.startswith(".")
            or name in AGENT_STDLIB
            or name in AGENT_PACKAGES
            or name in script.modules
        ):
            continue
        if name in _REMOVED_IN_312:
            why = f"{name} was removed from the standard library in Python 3.12, the agent's"
        else:
            why = f"the agent has the standard library and {agent_has()}, no more"
        found.append(
            script.at(
                node,
                f"imports {module}, which the agent runtime does not have: {why}; the hook "
                "fails there on every session (ModuleNotFoundError)",
                "use the standard library (urllib.request, json), or requests and boto3",
            )
        )
    return found


def agent_has() -> str:
    """The agent image's packages, as a message names them."""
    return ", ".join(f"{p.name} {p.version}" for p in agent_packages())


_ENV_GETTERS = {"os.getenv", "getenv", "os.environ.get", "environ.get"}
_ENV_MAPPINGS = {"os.environ", "environ"}


@rule("HK308", "warning", "reads a setting from the environment with no default")
def reads_environment_settings(script: Script) -> list[Problem]:
    """HK308: Hoop passes the hook one variable, the payload; whether the agent adds its
    own environment cannot be seen in Hoop's source (docs/hoop-runtime.md section 3). A
    setting read with no default (``os.environ["X"]``: a KeyError; ``os.getenv("X")``:
    None) breaks the hook where the agent lacks it. A read with a default, even ``""``,
    is the hook deciding what absence means (the templates stop with one line naming
    the setting), and is not reported.
    """
    found = []
    for node in ast.walk(script.tree):
        read = _environment_read(node)
        if read is None or read[0] == PAYLOAD_VARIABLE:
            continue
        name, how, when_unset = read
        shown = name or "a variable"
        default = "default None" if how.endswith(", None)") else "no default"
        found.append(
            script.at(
                node,
                f"reads {shown} with {how}, {default}: {when_unset} wherever the agent's "
                f"environment lacks it (Hoop passes a hook only {PAYLOAD_VARIABLE}; whether "
                "the agent adds its own environment cannot be seen in Hoop's source, "
                "docs/hoop-runtime.md section 3)",
                f"give {shown} a default and stop with one line when it is empty "
                f'(os.environ.get("{name or "X"}", "")), then give the agent the value '
                "without committing it: the agent's own environment (its deployment's "
                "secret, e.g. a Kubernetes Secret as an environment variable; test with "
                "`hookdk fire --env-mode clean`), or a secret store read at run time "
                "(boto3 is on the agent: AWS Secrets Manager, SSM Parameter Store). A "
                "secret written in the hook is in git and in every payload's input_file",
            )
        )
    return found


def _environment_read(node: ast.AST) -> tuple[str, str, str] | None:
    """(variable, how it is read, what the hook gets when it is unset) for an
    ``os.environ[...]``, or an ``os.getenv(...)``/``os.environ.get(...)`` with no default
    (or ``None``); None for anything else, a read with a default included. The variable
    is "" when its name is not a literal."""
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
        if dotted(node.value) in _ENV_MAPPINGS:
            name = _literal(node.slice)
            return name, f'{dotted(node.value)}["{name}"]', "a KeyError (exit 1)"
        return None
    if not isinstance(node, ast.Call) or _call_name(node) not in _ENV_GETTERS or not node.args:
        return None
    default = node.args[1] if len(node.args) > 1 else None
    default = default or next((k.value for k in node.keywords if k.arg == "default"), None)
    if default is not None and not (isinstance(default, ast.Constant) and default.value is None):
        return None  # a default: the hook decides what an unset variable means
    name = _literal(node.args[0])
    given = ", None" if default is not None else ""
    return name, f'{_call_name(node)}("{name}"{given})', "None"


def environment_names(source: bytes) -> list[str]:
    """The variables a hook's source reads from the environment, default or not, in the
    order they first appear (the payload's left out); [] for a source that does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found = []
    for node in ast.walk(tree):
        name = _environment_name(node)
        if name and name != PAYLOAD_VARIABLE:
            found.append((node.lineno, node.col_offset, name))
    return list(dict.fromkeys(name for *_, name in sorted(found)))


def _environment_name(node: ast.AST) -> str | None:
    """The literal name of any ``os.environ[...]``, ``os.getenv(...)`` or
    ``os.environ.get(...)``, with a default or not."""
    if isinstance(node, ast.Subscript) and dotted(node.value) in _ENV_MAPPINGS:
        return _literal(node.slice) or None
    if isinstance(node, ast.Call) and _call_name(node) in _ENV_GETTERS and node.args:
        return _literal(node.args[0]) or None
    return None


def _literal(node: ast.AST) -> str:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""


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
            caught |= {"BaseException" if k is None else dotted(k).split(".")[-1] for k in kinds}
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
        if is_attribute and dotted(node.value) == module:
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
    return dotted(call.func)


def dotted(node: ast.AST | None) -> str:
    """``a.b.c`` for a chain of names, "" for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _arg_text(call: ast.Call) -> str:
    text = ast.unparse(call.args[0]) if call.args else ""
    return text if len(text) <= 60 else text[:59] + "…"
