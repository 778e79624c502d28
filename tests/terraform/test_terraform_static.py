"""Formatting, and init + validate of the root module, every submodule and every example."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Callable

import pytest

from tests.support.terraform import REPO_ROOT, TerraformDir

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning"),
]

CONFIGURATIONS = [
    ".",
    *sorted(str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "modules").iterdir() if p.is_dir()),
    "examples/complete",
    "examples/emulator",
]


def test_every_configuration_is_listed() -> None:
    # GIVEN the module tree THEN the documented submodules and both examples are validated.
    assert {
        "modules/lambda-function",
        "modules/ml-parameter-provider",
        "modules/model-deployer",
        "modules/model-tuner",
        "modules/state-machine",
        "modules/workflow",
    } <= set(CONFIGURATIONS)


def test_terraform_files_are_formatted(terraform_bin: str, terraform_env: dict[str, str]) -> None:
    paths = ["modules", "examples"]
    root_files = sorted(p.name for p in REPO_ROOT.glob("*.tf"))

    result = subprocess.run(
        [terraform_bin, "fmt", "-check", "-recursive", "-diff", "-no-color", *paths],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **terraform_env},
        check=False,
    )
    root = subprocess.run(
        [terraform_bin, "fmt", "-check", "-diff", "-no-color", *root_files],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **terraform_env},
        check=False,
    )

    assert root_files
    assert result.returncode == 0, result.stdout + result.stderr
    assert root.returncode == 0, root.stdout + root.stderr


@pytest.fixture(scope="module")
def configuration_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Terraform configurations with what they read (templates, schemas), copied: init
    then writes nothing into the repository, and no lock file left there by someone else's
    init decides the outcome."""
    copy = tmp_path_factory.mktemp("configurations")
    for path in REPO_ROOT.glob("*.tf"):
        shutil.copy2(path, copy / path.name)
    for directory in ("modules", "statemachine", "examples", "lambda_src/tuning_workflow/schemas"):
        shutil.copytree(
            REPO_ROOT / directory,
            copy / directory,
            ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"),
        )
    return copy


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_configuration_initialises_and_validates(
    configuration: str,
    configuration_copy: Path,
    terraform_dir: Callable[..., TerraformDir],
) -> None:
    terraform = terraform_dir(configuration_copy / configuration)
    terraform.init()

    result = terraform.validate()

    assert result.returncode == 0, result.output
    assert "Success! The configuration is valid." in result.stdout


def _variable_block(path: Path, name: str) -> str:
    match = re.search(rf'(?ms)^variable "{name}" {{\n.*?^}}\n', path.read_text())
    assert match, f"{path}: no variable {name}"
    return match.group(0)


def test_the_complete_example_takes_the_lambda_runtime_as_the_module_does() -> None:
    # GIVEN the root module's lambda_runtime variable and the complete example's
    root = _variable_block(REPO_ROOT / "variables.tf", "lambda_runtime")
    example = _variable_block(REPO_ROOT / "examples/complete/variables.tf", "lambda_runtime")
    # THEN they read the same (description, default, validation), and the example passes it on
    assert example == root
    main = (REPO_ROOT / "examples/complete/main.tf").read_text()
    assert re.search(r"(?m)^\s*lambda_runtime\s*=\s*var\.lambda_runtime$", main)


def module_variables() -> list[tuple[str, str, str]]:
    """(module, variable, type) of the root module and every submodule."""
    from tools.tfdocs import read_module

    found = []
    modules = sorted(p for p in (REPO_ROOT / "modules").iterdir() if p.is_dir())
    for directory in [REPO_ROOT, *modules]:
        variables, _ = read_module(directory)
        found += [(directory.name, variable.name, variable.type) for variable in variables]
    return found


def test_submodules_take_shared_settings_unvalidated_and_reach_nothing_outside() -> None:
    # GIVEN the submodules' sources
    sources = {
        path.relative_to(REPO_ROOT): path.read_text()
        for path in sorted((REPO_ROOT / "modules").glob("*/*.tf"))
    }
    root = (REPO_ROOT / "variables.tf").read_text()
    # The root's validation lists: log retention, log levels, runtimes, the name prefix.
    lists = [
        "contains([0, 1, 3, 5",
        'contains(["ALL", "ERROR"',
        'regex("^python3',
        "[a-z0-9-]{0,30}",
    ]

    # THEN the root holds each list once, and no submodule repeats one
    for fragment in lists:
        assert root.count(fragment) >= 1, fragment
        assert [str(path) for path, text in sources.items() if fragment in text] == [], fragment
    # AND no submodule reaches into the repository by a relative path: the root passes the
    # Lambda package and the templates in
    assert [str(path) for path, text in sources.items() if "../../" in text] == []
    # AND the shared settings are objects
    for module in ("model-tuner", "model-deployer", "workflow", "ml-parameter-provider"):
        text = "".join(t for p, t in sources.items() if p.parts[1] == module)
        assert 'variable "logging"' in text, module
        assert 'variable "kms_key_arns"' in text, module


def test_every_variable_is_typed() -> None:
    # GIVEN the variables of the root module and the submodules THEN none takes `any`: the
    # parameter files reach the components as typed objects of what each uses.
    variables = module_variables()

    assert len(variables) > 50
    assert [(module, name) for module, name, kind in variables if "any" in kind] == []
    tuner = {name: kind for module, name, kind in variables if module == "model-tuner"}
    assert tuner["tuning"].startswith("object({")


@pytest.mark.parametrize(
    ("runtime", "accepted"),
    [
        ("python3.8", True),
        ("python3.9", True),
        ("python3.12", True),
        ("python3.14", True),
        ("python3.20", True),
        ("python3.7", False),
        ("python3.0", False),
        ("python3.08", False),
        ("python3", False),
        ("python2.7", False),
        ("nodejs20.x", False),
    ],
)
def test_the_lambda_runtime_is_a_python_from_3_8_on(runtime: str, accepted: bool) -> None:
    block = _variable_block(REPO_ROOT / "variables.tf", "lambda_runtime")
    pattern = re.search(r'can\(regex\("(.+?)", var\.lambda_runtime\)\)', block)
    assert pattern
    # The HCL string escapes its backslashes; the expression is RE2's, which Python reads alike.
    expression = pattern.group(1).replace("\\\\", "\\")
    assert (re.search(expression, runtime) is not None) is accepted
