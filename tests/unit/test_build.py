"""The Lambda package: reproducible, complete, and importable on its own.

These tests run the real build (pip installs the pinned dependencies for the Lambda platform, from
pip's cache after the first run).
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT

BUILD = ROOT / "lambda_src" / "build.py"


def run_build(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BUILD), *args], capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def x86_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build-x86_64")
    result = run_build("--arch", "x86_64", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out / "lambda-x86_64.zip"


def test_two_builds_of_the_same_sources_are_byte_identical(x86_zip, tmp_path):
    result = run_build("--arch", "x86_64", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "lambda-x86_64.zip").read_bytes() == x86_zip.read_bytes()


def test_entries_are_sorted_dated_1980_with_fixed_modes(x86_zip):
    with zipfile.ZipFile(x86_zip) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    for info in infos:
        mode = (info.external_attr >> 16) & 0o777
        assert mode == (0o755 if info.is_dir() else 0o644), info.filename
        if not info.is_dir():
            assert info.compress_type == zipfile.ZIP_DEFLATED


def test_the_package_holds_the_code_the_schemas_and_the_dependencies_only(x86_zip):
    with zipfile.ZipFile(x86_zip) as archive:
        names = set(archive.namelist())
    assert {
        "tuning_workflow/handlers.py",
        "tuning_workflow/validation.py",
        "tuning_workflow/schemas/ml-parameters.schema.json",
        "tuning_workflow/schemas/hyperparameters.schema.json",
        "tuning_workflow/schemas/manifest.schema.json",
        "tuning_workflow/schemas/deployer-input.schema.json",
        "jsonschema/__init__.py",
        "jsonschema/schemas/draft2020-12.json",
        "attr/__init__.py",
        "pyrsistent/__init__.py",
    } <= names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert not [name for name in names if name.startswith("bin/") or name.endswith("/RECORD")]
    assert any(name.endswith("x86_64-linux-gnu.so") for name in names)


def test_the_arm64_package_carries_arm64_binaries(tmp_path):
    result = run_build("--arch", "arm64", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "lambda-arm64.zip") as archive:
        binaries = [name for name in archive.namelist() if name.endswith(".so")]
    assert binaries
    assert all("aarch64" in name for name in binaries)


def test_the_extracted_package_validates_documents_without_the_dev_environment(x86_zip, tmp_path):
    # GIVEN the zip unpacked as Lambda would
    with zipfile.ZipFile(x86_zip) as archive:
        archive.extractall(tmp_path)
    script = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "import jsonschema\n"
        "from tuning_workflow.validation import validate_manifest\n"
        "print(json.dumps([jsonschema.__file__, [str(p) for p in validate_manifest("
        "{'channels': []})]]))\n"
    )
    # WHEN Python without site-packages (-S) imports it
    result = subprocess.run(
        [sys.executable, "-S", "-c", script], capture_output=True, text=True, check=False
    )
    # THEN jsonschema comes from the package and validation works
    assert result.returncode == 0, result.stderr
    jsonschema_file, problems = json.loads(result.stdout)
    assert jsonschema_file.startswith(str(tmp_path))
    assert problems == ["$.channels: needs at least 1 item, got 0"]


def test_check_passes_when_the_committed_zip_is_current(x86_zip):
    result = run_build("--arch", "x86_64", "--out", str(x86_zip.parent), "--check")
    assert result.returncode == 0, result.stderr
    assert "is up to date" in result.stdout


def test_check_fails_and_names_the_entries_when_the_zip_is_stale(x86_zip, tmp_path):
    # GIVEN a zip that lacks one module and carries a changed one
    stale = tmp_path / "lambda-x86_64.zip"
    with zipfile.ZipFile(x86_zip) as source, zipfile.ZipFile(stale, "w") as target:
        for info in source.infolist():
            if info.filename == "tuning_workflow/trigger.py":
                continue
            data = source.read(info)
            if info.filename == "tuning_workflow/naming.py":
                data += b"\n# edited\n"
            target.writestr(info, data)
    # WHEN it is checked
    result = run_build("--arch", "x86_64", "--out", str(tmp_path), "--check")
    # THEN the check fails and says what differs
    assert result.returncode == 1
    assert "is out of date" in result.stderr
    assert "missing: tuning_workflow/trigger.py" in result.stderr
    assert "differs: tuning_workflow/naming.py" in result.stderr


def test_check_fails_when_there_is_no_zip(tmp_path):
    result = run_build("--arch", "arm64", "--out", str(tmp_path), "--check")
    assert result.returncode == 1
    assert "does not exist" in result.stderr


def test_an_unknown_architecture_is_refused():
    result = run_build("--arch", "sparc")
    assert result.returncode == 2
    assert "invalid choice: 'sparc'" in result.stderr


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_the_committed_packages_match_the_sources(arch):
    """The zips in lambda_src/dist are what Terraform deploys: a source change without
    `make lambda` would deploy stale code, so this fails until they are rebuilt."""
    result = run_build("--arch", arch, "--check")
    assert result.returncode == 0, result.stdout + result.stderr
