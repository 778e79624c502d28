"""make lint, the pre-commit hooks and CI run the same checks; the version is written once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from smtune import __version__

REPO = Path(__file__).resolve().parents[2]
tomllib = pytest.importorskip("tomllib")  # Python 3.11 and later


def lint_commands() -> list[str]:
    """The commands of the Makefile's lint recipe, with its variables expanded."""
    makefile = (REPO / "Makefile").read_text()
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "the Makefile has no lint target"
    lines = [line.strip() for line in recipe.group(1).splitlines()]
    return [line.replace("$(VENV)", ".venv").replace("$(PY)", ".venv/bin/python") for line in lines]


def test_make_lint_runs_ruff_terraform_fmt_tfdocs_and_mypy() -> None:
    commands = lint_commands()

    assert commands == [
        ".venv/bin/ruff check .",
        ".venv/bin/ruff format --check .",
        "terraform fmt -check -recursive",
        ".venv/bin/python tools/tfdocs.py --check",
        ".venv/bin/mypy",
    ]


def test_every_lint_command_is_a_pre_commit_hook_that_checks_the_whole_tree() -> None:
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]

    assert all(repo["repo"] == "local" for repo in config["repos"])
    assert all(hook["language"] == "system" and hook["pass_filenames"] is False for hook in hooks)
    for command in lint_commands():
        assert [hook for hook in hooks if hook["entry"].rstrip("'").endswith(command)], command
    assert len(hooks) == len(lint_commands())


def test_ci_lints_before_it_tests() -> None:
    steps = [
        line.split("#")[0].strip()
        for line in (REPO / ".ci" / "run").read_text().splitlines()
        if line.startswith("make ")
    ]

    assert steps == ["make lint", "make test"]


def test_the_version_is_written_once_and_pyproject_reads_it() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())

    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "smtune.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog


def test_the_license_is_declared_and_shipped() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]

    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    assert "Apache License" in (REPO / "LICENSE").read_text()
    assert "Version 2.0" in (REPO / "LICENSE").read_text()
