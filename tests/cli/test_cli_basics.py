"""Every subcommand has --help; the console script is installed; usage errors exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# One worker runs all CLI tests in a row: the moto server they share lives in its process.
pytestmark = pytest.mark.xdist_group("cli")

COMMANDS = [
    "validate",
    "init-params",
    "start",
    "watch",
    "status",
    "history",
    "stop",
    "report",
    "graph",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(cli, command: str) -> None:
    result = cli(command, "--help")

    assert result.code == 0
    assert result.out.startswith(f"usage: smtune {command}")
    assert "--endpoint-url" in result.out  # the AWS CLI's options are accepted after it too
    assert "exit codes:" in result.out


def test_top_level_help_lists_every_subcommand(cli) -> None:
    result = cli("--help")

    assert result.code == 0
    for command in COMMANDS:
        assert f"\n    {command}" in result.out


def test_console_script_runs_as_a_program() -> None:
    script = Path(sys.executable).with_name("smtune")
    assert script.exists(), "run `pip install -e .` to install the smtune console script"

    completed = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, check=False
    )

    assert completed.returncode == 0
    assert completed.stdout.startswith("usage: smtune")
    assert completed.stderr == ""


def test_without_a_subcommand_it_shows_help_and_fails(cli) -> None:
    result = cli()

    assert result.code == 2
    assert "usage: smtune" in result.err


def test_an_unknown_subcommand_is_a_usage_error(cli) -> None:
    result = cli("deploy")

    assert result.code == 2
    assert "invalid choice: 'deploy'" in result.err


def test_version(cli) -> None:
    result = cli("--version")

    assert result.code == 0
    assert result.out.startswith("smtune ")
