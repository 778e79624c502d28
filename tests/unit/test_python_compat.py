"""The Lambda package runs on every Python the module accepts as lambda_runtime, python3.8 on.

Two checks: vermin reads the sources for anything newer than Python 3.8 (functools.cache,
str.removeprefix, `match`, ...), and the committed package is imported and run under every
Python interpreter found on this machine, without site-packages, as Lambda would run it. Lambda
supplies boto3; here a stand-in with the names the package imports takes its place.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from .conftest import EVENTS, ROOT

PACKAGE_SOURCES = ROOT / "lambda_src" / "tuning_workflow"
PACKAGE_ZIP = ROOT / "lambda_src" / "dist" / "lambda-x86_64.zip"
OLDEST = (3, 8)
# The Python versions of the Lambda runtimes from the oldest the module accepts to the newest.
LAMBDA_PYTHONS = [(3, minor) for minor in range(8, 15)]
HOST = tuple(sys.version_info[:2])

# What the package imports from boto3 and botocore, which the Lambda runtime provides.
BOTO_STAND_IN = {
    "boto3/__init__.py": (
        "def client(service_name, **kwargs):\n"
        "    raise RuntimeError('no AWS calls in this test: ' + service_name)\n"
    ),
    "botocore/__init__.py": "",
    "botocore/config.py": (
        "class Config:\n    def __init__(self, **kwargs):\n        self.options = kwargs\n"
    ),
    "botocore/exceptions.py": (
        "class BotoCoreError(Exception):\n    pass\n\n\n"
        "class ClientError(Exception):\n"
        "    def __init__(self, error_response, operation_name):\n"
        "        super().__init__(str(error_response))\n"
        "        self.response = error_response\n"
        "        self.operation_name = operation_name\n\n\n"
        + "".join(
            f"class {name}(BotoCoreError):\n    pass\n\n\n"
            for name in (
                "EndpointConnectionError",
                "ConnectTimeoutError",
                "ReadTimeoutError",
                "ConnectionClosedError",
            )
        )
    ),
}

# Imports every module of the package, then prepares a run from the sample event (an inline
# manifest: validation, parsing, naming and the tuning job request, with no AWS call).
SMOKE = """
import importlib, json, pkgutil, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import jsonschema
import tuning_workflow
modules = sorted(m.name for m in pkgutil.iter_modules(tuning_workflow.__path__))
for name in modules:
    importlib.import_module("tuning_workflow." + name)
from tuning_workflow.prepare import prepare_tuning_run
with open(sys.argv[3], encoding="utf-8") as file:
    event = json.load(file)
result = prepare_tuning_run(event, s3=object())
print(json.dumps({
    "version": list(sys.version_info[:2]),
    "jsonschema": jsonschema.__file__,
    "modules": modules,
    "valid": result["valid"],
    "tuningJob": result["tuningJob"]["HyperParameterTuningJobName"],
}))
"""


def run_vermin(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from vermin import main; sys.exit(main())",
            "--target=3.8-",
            "--no-tips",
            "--violations",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_vermin_finds_nothing_newer_than_python_3_8_in_the_package():
    result = run_vermin(PACKAGE_SOURCES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_vermin_would_catch_a_python_3_9_feature(tmp_path: Path):
    # GIVEN a module using functools.cache, which Python 3.9 added
    module = tmp_path / "cached.py"
    module.write_text("from functools import cache\n\n\n@cache\ndef f():\n    return 1\n")
    # WHEN vermin checks it against 3.8 THEN it fails and names the feature
    result = run_vermin(module)
    assert result.returncode != 0
    assert "functools.cache" in result.stdout


def _version_of(executable: str) -> tuple[int, int] | None:
    try:
        result = subprocess.run(
            [executable, "-I", "-S", "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = result.stdout.split()
    if result.returncode != 0 or len(parts) != 2:
        return None
    return int(parts[0]), int(parts[1])


@cache
def other_interpreters() -> dict[tuple[int, int], str]:
    """Python version -> an interpreter of it, for the Lambda versions besides the host's."""
    candidates = [shutil.which(f"python{major}.{minor}") for major, minor in LAMBDA_PYTHONS]
    for root in ("/usr/bin", "/usr/local/bin", os.path.expanduser("~/.pyenv/versions/*/bin")):
        candidates += sorted(glob.glob(os.path.join(root, "python3.[0-9]*")))
    found: dict[tuple[int, int], str] = {}
    for candidate in candidates:
        if not candidate or candidate.endswith("-config") or not os.access(candidate, os.X_OK):
            continue
        version = _version_of(candidate)
        if version in LAMBDA_PYTHONS and version != HOST and version not in found:
            found[version] = candidate
    return dict(sorted(found.items()))


def _missing_versions() -> str:
    missing = [v for v in LAMBDA_PYTHONS if v != HOST and v not in other_interpreters()]
    return ", ".join(f"{major}.{minor}" for major, minor in missing)


@pytest.fixture(scope="module")
def unpacked_package(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The committed package unpacked as Lambda unpacks it, and the boto stand-in."""
    package = tmp_path_factory.mktemp("package")
    with zipfile.ZipFile(PACKAGE_ZIP) as archive:
        archive.extractall(package)
    stand_in = tmp_path_factory.mktemp("boto-stand-in")
    for name, text in BOTO_STAND_IN.items():
        (stand_in / name).parent.mkdir(parents=True, exist_ok=True)
        (stand_in / name).write_text(text, encoding="utf-8")
    return package, stand_in


def run_package(executable: str, unpacked: tuple[Path, Path]) -> dict[str, Any]:
    package, stand_in = unpacked
    event = EVENTS / "prepare_tuning_run.json"
    result = subprocess.run(
        [executable, "-I", "-S", "-c", SMOKE, str(package), str(stand_in), str(event)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{executable}:\n{result.stderr}"
    return json.loads(result.stdout)


def assert_runs(report: dict[str, Any], version: tuple[int, int], package: Path) -> None:
    assert tuple(report["version"]) == version
    assert report["jsonschema"].startswith(str(package))
    assert {"handlers", "prepare", "validation", "deployment"} <= set(report["modules"])
    assert report["valid"] is True
    assert report["tuningJob"].startswith("survival-tuning-")


def test_the_package_runs_under_the_hosts_python(unpacked_package):
    report = run_package(sys.executable, unpacked_package)
    assert_runs(report, HOST, unpacked_package[0])


@pytest.mark.parametrize(
    "version",
    list(other_interpreters()) or [None],
    ids=lambda v: "none-found" if v is None else f"python{v[0]}.{v[1]}",
)
def test_the_package_runs_under_every_other_python_found(version, unpacked_package):
    if version is None:
        pytest.skip(
            f"no Python interpreter besides the host's {HOST[0]}.{HOST[1]} found; missing: "
            f"{_missing_versions()}"
        )
    report = run_package(other_interpreters()[version], unpacked_package)
    assert_runs(report, version, unpacked_package[0])


def test_the_package_is_built_for_the_oldest_accepted_runtime():
    spec = importlib.util.spec_from_file_location("build", ROOT / "lambda_src" / "build.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    oldest = f"{OLDEST[0]}.{OLDEST[1]}"
    assert oldest == build.PYTHON_VERSION
