"""Compare openapi-excerpt.json with Hoop's own gateway/api/openapi/openapiv3.json.

The fake Hoop API of the tests (tests/fake_hoop.py) answers only what this excerpt
allows. The excerpt is written from Hoop's generated OpenAPI file at the commit named in
its ``info.version``; this script says whether it still says what Hoop's file says, so a
maintainer moving the kit to a newer Hoop sees every shape that changed:

    python tests/data/hoop/compare_with_hoop.py PATH/TO/openapiv3.json

Every difference is printed, and the exit status is 1 when there is one. What the
excerpt deliberately says otherwise is marked in it and left out of the comparison:
``x-hookdk-nullable`` (Go writes null where the generated file has no null),
``x-hookdk-replaced`` (event_stream, which the generated file types as integers) and
``x-hookdk-added`` (the 401/403 answers of the auth middleware); ``x-hookdk-excerpt``
marks a component of which only some properties are kept.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

EXCERPT = Path(__file__).with_name("openapi-excerpt.json")
DESCRIPTIVE = {"description", "example", "x-enum-varnames", "default", "readOnly"}


def plain(node):
    """Hoop's schema without the keys that describe rather than constrain."""
    if isinstance(node, dict):
        return {k: plain(v) for k, v in node.items() if k not in DESCRIPTIVE}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def undo_nullable(node: dict) -> dict:
    """The excerpt's nullable form back in the generated file's form."""
    node = {k: v for k, v in node.items() if k != "x-hookdk-nullable"}
    if "anyOf" in node:
        refs = [part for part in node.pop("anyOf") if part != {"type": "null"}]
        node["allOf"] = refs
    elif isinstance(node.get("type"), list):
        node["type"] = next(t for t in node["type"] if t != "null")
    return node


def compare_component(name: str, ours: dict, hoops: dict | None) -> list[str]:
    if hoops is None:
        return [f"{name}: not in Hoop's file"]
    hoops = plain(hoops)
    problems = []
    excerpt = "x-hookdk-excerpt" in ours
    ours = {k: v for k, v in ours.items() if k != "x-hookdk-excerpt"}
    theirs_props = hoops.get("properties", {})
    for prop, schema in ours.get("properties", {}).items():
        if "x-hookdk-replaced" in schema:
            if prop not in theirs_props:
                problems.append(f"{name}.{prop}: Hoop's file no longer has it")
            continue
        if "x-hookdk-nullable" in schema:
            schema = undo_nullable(schema)
        if theirs_props.get(prop) != schema:
            problems.append(
                f"{name}.{prop}: ours {json.dumps(schema)} != Hoop's "
                f"{json.dumps(theirs_props.get(prop))}"
            )
    if not excerpt:
        for prop in sorted(set(theirs_props) - set(ours.get("properties", {}))):
            problems.append(f"{name}.{prop}: in Hoop's file, not in the excerpt")
    for key in set(ours) | set(hoops):
        if key != "properties" and ours.get(key) != hoops.get(key):
            problems.append(
                f"{name}: {key} differs: ours {ours.get(key)} != Hoop's {hoops.get(key)}"
            )
    return problems


def compare_paths(ours: dict, hoops: dict) -> list[str]:
    problems = []
    for path, methods in ours.items():
        for method, operation in methods.items():
            theirs = hoops.get(path, {}).get(method)
            if theirs is None:
                problems.append(f"{method.upper()} {path}: not in Hoop's file")
                continue
            for code, answer in operation["responses"].items():
                if "x-hookdk-added" in answer:
                    continue
                mine = answer["content"]["application/json"]["schema"]
                other = theirs["responses"].get(code, {}).get("content", {})
                other = other.get("application/json", {}).get("schema")
                if mine != other:
                    problems.append(f"{method.upper()} {path} {code}: {mine} != Hoop's {other}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print(f"usage: python {argv[0]} PATH/TO/openapiv3.json", file=sys.stderr)
        return 2
    ours = json.loads(EXCERPT.read_text(encoding="utf-8"))
    hoops = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    theirs = hoops["components"]["schemas"]
    problems = compare_paths(ours["paths"], hoops["paths"])
    for name, schema in ours["components"]["schemas"].items():
        problems += compare_component(name, schema, theirs.get(name))
    for problem in problems:
        print(problem)
    print(f"{len(problems)} difference(s) from {argv[1]}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
