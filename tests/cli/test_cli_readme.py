"""README's command table against the parser: every subcommand, with what it requires."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from smtune.cli import build_parser

REPO = Path(__file__).resolve().parents[2]


def readme_commands() -> dict[str, str]:
    """The first cell of each `smtune ...` row of README's command table, by subcommand."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## The operator CLI", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        match = re.match(r"\| (`smtune ([a-z-]+)[^|]*?) \|", line)
        if match:
            assert match.group(2) not in rows, f"two rows for smtune {match.group(2)}"
            rows[match.group(2)] = match.group(1)
    return rows


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    [choices] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(choices.choices)


def requirements(sub: argparse.ArgumentParser) -> list[list[str]]:
    """What a command line must hold: each entry is a list of alternatives, one of which must
    appear (a positional's metavar, a required option, one option of a required group)."""
    needed: list[list[str]] = []
    grouped = set()
    for group in sub._mutually_exclusive_groups:
        if group.required:
            needed.append([a.option_strings[0] for a in group._group_actions])
            grouped.update(id(a) for a in group._group_actions)
    for action in sub._actions:
        if id(action) in grouped:
            continue
        if not action.option_strings:
            needed.append([str(action.metavar or action.dest.upper())])
        elif action.required:
            needed.append([action.option_strings[0]])
    return needed


def test_the_table_has_a_row_for_every_subcommand_and_nothing_else() -> None:
    assert sorted(readme_commands()) == sorted(subcommands())


@pytest.mark.parametrize("command", sorted(subcommands()))
def test_each_row_gives_what_the_command_requires(command: str) -> None:
    row = readme_commands()[command]
    sub = subcommands()[command]
    usage = sub.format_usage()

    for alternatives in requirements(sub):
        assert any(
            re.search(rf"(?<![\w-]){re.escape(a)}(?![\w-])", row) for a in alternatives
        ), f"README's row for smtune {command} lacks {' or '.join(alternatives)} ({usage})"
    # and every option the row shows is one the command accepts
    for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", row):
        assert option in sub._option_string_actions, f"smtune {command} has no {option}"


def test_the_check_notices_a_missing_argument() -> None:
    sub = subcommands()["status"]
    assert requirements(sub) == [["EXECUTION_ARN"]]
    assert requirements(subcommands()["report"]) == [["--tuning-job", "--execution"]]
    assert ["--account"] in requirements(subcommands()["init-params"])
