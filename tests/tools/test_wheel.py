"""The wheel an operator installs: `pip install .` gives `smtune` without the emulator.

The wheel is built from a copy of the sources (offline, with the build backend of this
environment) and installed into a fresh virtual environment without system site packages. The
environment gets its dependencies offline: a directory holding only the distributions that the
wheel's own requirements name (and theirs), taken from this environment, is put on its path;
`pip install --no-index` then resolves the wheel's requirements against them. Whatever the CLI
imports without declaring it, moto included, is missing there.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from smtune import __version__
from smtune.cli import build_parser
from smtune.graph import fill_template

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "examples" / "seed"
SOURCES = ["pyproject.toml", "LICENSE", "smtune", "lambda_src/tuning_workflow", "statemachine"]
STATE_MACHINES = ("tuner", "deployer", "parent")


def _run(*argv: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    completed = subprocess.run(
        [str(arg) for arg in argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert (
        completed.returncode == 0
    ), f"{argv} exited {completed.returncode}\n{completed.stdout}\n{completed.stderr}"
    return completed.stdout


def _requirement_closure(requirements: list[str]) -> list[metadata.Distribution]:
    """The distributions of this environment that `requirements` need, transitively (no extras
    unless asked for, environment markers evaluated for this interpreter)."""
    found: dict[str, metadata.Distribution] = {}
    pending = [(Requirement(text), "") for text in requirements]
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = requirement.name.lower().replace("_", "-")
        if name in found:
            continue
        dist = metadata.distribution(requirement.name)
        found[name] = dist
        for text in dist.requires or []:
            pending.extend((Requirement(text), wanted) for wanted in ("", *requirement.extras))
    return list(found.values())


def _link_distributions(dists: list[metadata.Distribution], target: Path) -> None:
    """A site directory holding only `dists`: links to their top-level files and directories."""
    target.mkdir()
    for dist in dists:
        tops = {Path(str(file)).parts[0] for file in dist.files or []}
        for top in sorted(tops - {"..", "__pycache__"}):
            source = Path(str(dist.locate_file(top)))
            if source.exists() and not (target / top).exists():
                (target / top).symlink_to(source, target_is_directory=source.is_dir())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(
                REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "dist")
            )
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    out = work / "dist"
    _run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
        "-q", "-w", out, source,
        cwd=work,
    )  # fmt: skip
    [built] = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def smtune_env(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A fresh virtual environment with the wheel installed: its python, smtune and a work dir."""
    work = tmp_path_factory.mktemp("venv")
    venv = work / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=work)
    python = venv / "bin" / "python"
    purelib = _run(
        python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=work
    ).strip()
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        wheel_metadata = Parser().parsestr(archive.read(name).decode())
    deps = work / "deps"
    _link_distributions(_requirement_closure(wheel_metadata.get_all("Requires-Dist") or []), deps)
    (Path(purelib) / "deps.pth").write_text(f"{deps}\n")
    _run(
        python, "-m", "pip", "install", "-q", "--no-index", "--disable-pip-version-check", wheel,
        cwd=work, env=_clean_env(),
    )  # fmt: skip
    home = work / "home"
    home.mkdir()
    return {"python": python, "smtune": venv / "bin" / "smtune", "cwd": home}


def _clean_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"} and not key.startswith("AWS_")
    }
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    env["PATH"] = os.pathsep.join(
        part for part in env.get("PATH", "").split(os.pathsep) if ".venv" not in part
    )
    return env


def smtune(env: dict[str, Path], *argv: str | Path) -> str:
    return _run(env["smtune"], *argv, cwd=env["cwd"], env=_clean_env())


def test_the_wheel_holds_the_cli_the_lambda_package_the_templates_the_schemas_and_the_license(
    wheel: Path,
) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [meta] = [n for n in names if n.endswith(".dist-info/METADATA")]
        info = Parser().parsestr(archive.read(meta).decode())

    assert info["Version"] == __version__
    assert "smtune/cli.py" in names and "tuning_workflow/validation.py" in names
    for name in STATE_MACHINES:
        assert f"smtune/statemachine/{name}.asl.json" in names
    schemas = {p.name for p in (REPO / "lambda_src/tuning_workflow/schemas").glob("*.json")}
    assert schemas and {f"tuning_workflow/schemas/{s}" for s in schemas} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert info["License-Expression"] == "Apache-2.0"
    requires = info.get_all("Requires-Dist") or []
    base = [r for r in requires if "extra ==" not in r]
    assert not [r for r in base if Requirement(r).name.lower() == "moto"]
    assert [r for r in requires if r.startswith("moto") and 'extra == "emulator"' in r]
    assert not [n for n in names if n.startswith(("tests/", "examples/"))]


def test_moto_is_not_installed_and_the_emulator_names_the_extra(
    smtune_env: dict[str, Path],
) -> None:
    probe = (
        "import importlib.util, sys\n"
        "assert importlib.util.find_spec('moto') is None, 'moto is importable'\n"
        "try:\n"
        "    import smtune.emulator\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
        "else:\n"
        "    sys.exit('smtune.emulator imported without moto')\n"
    )
    out = _run(smtune_env["python"], "-c", probe, cwd=smtune_env["cwd"], env=_clean_env())

    assert "sagemaker-tuner-deployer[emulator]" in out


def test_version(smtune_env: dict[str, Path]) -> None:
    assert smtune(smtune_env, "--version").strip() == f"smtune {__version__}"


def test_every_subcommand_has_help(smtune_env: dict[str, Path]) -> None:
    parser = build_parser()
    [choices] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(choices.choices) >= 10

    for command in choices.choices:
        assert smtune(smtune_env, command, "--help").startswith(f"usage: smtune {command}")


def test_validate_reads_the_seed_files_with_the_packaged_schemas(
    smtune_env: dict[str, Path],
) -> None:
    out = smtune(
        smtune_env,
        "validate",
        "--json",
        "--ml-parameters", SEED / "template-ml-parameters.json",
        "--hyperparameters", SEED / "hyperparameters.json",
        "--manifest", SEED / "manifest.json",
    )  # fmt: skip
    report = json.loads(out)

    assert report["valid"] is True
    assert [f["kind"] for f in report["files"]] == ["ml-parameters", "hyperparameters", "manifest"]
    warned = {w["path"] for f in report["files"] for w in f["warnings"]}
    assert "$.algorithmARN" in warned  # the seed template's placeholders, as warnings


def test_graph_draws_a_packaged_template(smtune_env: dict[str, Path]) -> None:
    mermaid, image = smtune_env["cwd"] / "deployer.mmd", smtune_env["cwd"] / "deployer.svg"
    smtune(smtune_env, "graph", "--template", "deployer", "--output", mermaid, "--image", image)

    template = (REPO / "statemachine" / "deployer.asl.json").read_text()
    states = json.loads(fill_template(template))["States"]
    out = mermaid.read_text()
    assert out.startswith("flowchart TD")
    for state in states:
        assert f'"{state}' in out
    svg = image.read_text()
    assert svg.startswith("<svg") and all(state in svg for state in states)
