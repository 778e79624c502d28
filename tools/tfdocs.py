"""Inputs and outputs tables of a Terraform module, for the README.

Reads `variable` and `output` blocks from a module's *.tf files and writes Markdown tables
between `<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->` in a Markdown file.

Usage:
  python tools/tfdocs.py [--module DIR] [--readme README.md]          rewrite the tables
  python tools/tfdocs.py [--module DIR] [--readme README.md] --check  exit 1 when they are stale
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
BLOCK_START = re.compile(r'^(variable|output)\s+"([^"]+)"\s*\{\s*$')
ATTRIBUTE = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(.*)$")
NESTED_BLOCK = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\s+\"[^\"]*\")*\s*\{")


@dataclass
class Variable:
    name: str
    description: str = ""
    type: str = "any"
    default: str | None = None
    sensitive: bool = False


@dataclass
class Output:
    name: str
    description: str = ""


def outside_strings(line: str) -> Iterator[tuple[int, str]]:
    """The characters of a line that are not inside a string literal, with their index."""
    in_string = False
    escaped = False
    for index, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            in_string = not in_string
        elif not in_string:
            yield index, char


def strip_comment(line: str) -> str:
    """Drop a trailing `#` or `//` comment that is not inside a string."""
    for index, char in outside_strings(line):
        if char == "#" or line.startswith("//", index):
            return line[:index].rstrip()
    return line.rstrip()


def bracket_balance(text: str) -> int:
    opened = sum(1 for _, char in outside_strings(text) if char in "{[(")
    closed = sum(1 for _, char in outside_strings(text) if char in "}])")
    return opened - closed


def split_blocks(text: str) -> list[tuple[str, str, list[str]]]:
    """Top-level `variable`/`output` blocks as (kind, name, body lines)."""
    blocks: list[tuple[str, str, list[str]]] = []
    lines = [strip_comment(line) for line in text.splitlines()]
    index = 0
    while index < len(lines):
        match = BLOCK_START.match(lines[index].strip())
        index += 1
        if not match:
            continue
        depth = 1
        body: list[str] = []
        while index < len(lines) and depth > 0:
            line = lines[index]
            depth += bracket_balance(line)
            if depth > 0:
                body.append(line)
            index += 1
        blocks.append((match.group(1), match.group(2), body))
    return blocks


def attributes(body: list[str]) -> dict[str, str]:
    """The block's own attributes (not those of nested blocks such as `validation`)."""
    found: dict[str, str] = {}
    index = 0
    while index < len(body):
        line = body[index].strip()
        index += 1
        if not line:
            continue
        match = ATTRIBUTE.match(line)
        if match is None:
            if NESTED_BLOCK.match(line):
                depth = bracket_balance(line)
                while index < len(body) and depth > 0:
                    depth += bracket_balance(body[index])
                    index += 1
            continue
        value = [match.group(2)]
        depth = bracket_balance(match.group(2))
        while depth > 0 and index < len(body):
            value.append(body[index].strip())
            depth += bracket_balance(body[index])
            index += 1
        found[match.group(1)] = join_lines(value)
    return found


def join_lines(parts: list[str]) -> str:
    """Join a multi-line expression, with the commas HCL lets newlines stand for."""
    text = ""
    for part in (p for p in parts if p):
        if (
            text
            and not text.endswith(("{", "[", "(", ","))
            and not part.startswith(("}", "]", ")"))
        ):
            text += ", "
        elif text:
            text += " "
        text += part
    return text


def unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\n", " ")
    return value


def compact(expression: str) -> str:
    """One-line form of an HCL expression for a table cell."""
    text = re.sub(r"\s+", " ", expression).strip()
    text = re.sub(r"([\[{(]) ", r"\1", text)
    return re.sub(r" ([\]})])", r"\1", text)


def read_module(module: Path) -> tuple[list[Variable], list[Output]]:
    variables: list[Variable] = []
    outputs: list[Output] = []
    for path in sorted(module.glob("*.tf")):
        for kind, name, body in split_blocks(path.read_text()):
            attrs = attributes(body)
            description = unquote(attrs.get("description", ""))
            if kind == "variable":
                variables.append(
                    Variable(
                        name=name,
                        description=description,
                        type=compact(attrs.get("type", "any")),
                        default=compact(attrs["default"]) if "default" in attrs else None,
                        sensitive=attrs.get("sensitive", "false").strip() == "true",
                    )
                )
            else:
                outputs.append(Output(name=name, description=description))
    return variables, outputs


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(variables: list[Variable], outputs: list[Output]) -> str:
    lines = [
        "### Inputs",
        "",
        "| name | description | type | default | required |",
        "|---|---|---|---|:---:|",
    ]
    for var in sorted(variables, key=lambda v: (v.default is not None, v.name)):
        default = "n/a" if var.default is None else f"`{cell(var.default)}`"
        lines.append(
            f"| `{var.name}` | {cell(var.description)} | `{cell(var.type)}` | {default} | "
            f"{'yes' if var.default is None else 'no'} |"
        )
    lines += ["", "### Outputs", "", "| name | description |", "|---|---|"]
    for out in sorted(outputs, key=lambda o: o.name):
        lines.append(f"| `{out.name}` | {cell(out.description)} |")
    return "\n".join(lines)


def replace_section(document: str, generated: str) -> str:
    start = document.find(BEGIN)
    end = document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the markers {BEGIN} and {END} are missing")
    return document[: start + len(BEGIN)] + "\n" + generated + "\n" + document[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Inputs and outputs tables of a Terraform module.")
    parser.add_argument("--module", default=".", help="module directory (default: .)")
    parser.add_argument("--readme", default="README.md", help="Markdown file with the markers")
    parser.add_argument("--check", action="store_true", help="fail when the tables are stale")
    args = parser.parse_args(argv)
    readme = Path(args.readme)
    try:
        current = readme.read_text()
        updated = replace_section(current, render(*read_module(Path(args.module))))
    except (OSError, ValueError) as exc:
        print(f"tfdocs: {readme}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if updated != current:
            diff = difflib.unified_diff(
                current.splitlines(), updated.splitlines(), str(readme), "generated", lineterm=""
            )
            print("\n".join(diff))
            print(f"tfdocs: {readme} is stale: run python tools/tfdocs.py", file=sys.stderr)
            return 1
        return 0
    readme.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
