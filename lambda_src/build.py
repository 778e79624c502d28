"""Build the Lambda deployment package, byte for byte the same from the same sources.

    python lambda_src/build.py --arch x86_64|arm64 [--out lambda_src/dist] [--check]

The zip holds `tuning_workflow/` (with its schemas) and the dependencies pinned in
requirements-lambda.txt, installed by pip for the Lambda platform (manylinux2014) and the oldest
runtime the module accepts (CPython 3.8), with binary wheels only: every wheel must support
Python 3.8, and the same zip runs on python3.8 and every newer runtime (a compiled extension for
3.8 is skipped by the others, which use its pure-Python fallback). What would make two builds
differ is left out or fixed: entries are sorted, dated 1980-01-01, with modes 0644 (files) and
0755 (directories); no __pycache__ or .pyc; no console scripts (their first line names the
Python that ran pip) and no RECORD files (they hash those scripts). pip's download cache is used, so repeat builds are fast.

--check builds into a temporary directory and exits 1 when the committed zip's entries differ
from the fresh build's (names, modes, dates or contents), naming the entries that differ.
"""

from __future__ import annotations

import argparse
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PACKAGE_DIR = HERE / "tuning_workflow"
REQUIREMENTS = ROOT / "requirements-lambda.txt"
DEFAULT_OUT = HERE / "dist"

PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
# The oldest Lambda runtime the module accepts (variables.tf, lambda_runtime).
PYTHON_VERSION = "3.8"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
DIR_MODE = 0o755
PACKAGE_SUFFIXES = {".py", ".json", ".typed"}
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}


class BuildError(Exception):
    """The package could not be built; the message says why."""


def archive_name(arch: str) -> str:
    return f"lambda-{arch}.zip"


def install_dependencies(arch: str, target: Path, requirements: Path = REQUIREMENTS) -> None:
    """pip install the pinned dependencies for the Lambda platform of `arch` into `target`."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--target",
        str(target),
        "--platform",
        PLATFORMS[arch],
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        "--no-compile",
        "-r",
        str(requirements),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(
            f"pip could not install {requirements.name} for {arch} "
            f"(exit {result.returncode}):\n{result.stderr.strip()}"
        )


def _included(relative: Path) -> bool:
    if "__pycache__" in relative.parts or relative.suffix in EXCLUDED_SUFFIXES:
        return False
    if relative.parts[0] == "bin":  # console scripts: their first line names the local Python
        return False
    return not (relative.name == "RECORD" and relative.parent.name.endswith(".dist-info"))


def collect_entries(dependencies: Path, package: Path = PACKAGE_DIR) -> dict[str, Path]:
    """Archive name -> file, for the dependencies and the package's own source files."""
    entries: dict[str, Path] = {}
    for path in dependencies.rglob("*"):
        relative = path.relative_to(dependencies)
        if path.is_file() and _included(relative):
            entries[relative.as_posix()] = path
    for path in package.rglob("*"):
        relative = path.relative_to(package.parent)
        if path.is_file() and path.suffix in PACKAGE_SUFFIXES and _included(relative):
            entries[relative.as_posix()] = path
    return entries


def _directories(names: Iterable[str]) -> set[str]:
    directories = set()
    for name in names:
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            directories.add("/".join(parts[:depth]) + "/")
    return directories


def write_zip(entries: dict[str, Path], out: Path) -> None:
    """A zip of `entries` whose bytes depend only on the names and the file contents."""
    out.parent.mkdir(parents=True, exist_ok=True)
    names = sorted(set(entries) | _directories(entries))
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.create_system = 3  # Unix, so the mode bits below are honoured
            if name.endswith("/"):
                info.external_attr = ((stat.S_IFDIR | DIR_MODE) << 16) | 0x10
                archive.writestr(info, b"")
            else:
                info.external_attr = (stat.S_IFREG | FILE_MODE) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, entries[name].read_bytes())


def build(arch: str, out_dir: Path, *, package: Path = PACKAGE_DIR) -> Path:
    """Build `out_dir/lambda-<arch>.zip` and return its path."""
    if arch not in PLATFORMS:
        raise BuildError(f"unknown architecture {arch!r}; expected one of {', '.join(PLATFORMS)}")
    out = out_dir / archive_name(arch)
    with tempfile.TemporaryDirectory(prefix="lambda-build-") as temporary:
        dependencies = Path(temporary) / "dependencies"
        install_dependencies(arch, dependencies)
        staged = Path(temporary) / archive_name(arch)
        write_zip(collect_entries(dependencies, package), staged)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staged), out)
    return out


def _entry_signatures(path: Path) -> dict[str, tuple[int, tuple[int, ...], int, int]]:
    with zipfile.ZipFile(path) as archive:
        return {
            info.filename: (info.external_attr, info.date_time, info.CRC, info.file_size)
            for info in archive.infolist()
        }


def differences(committed: Path, fresh: Path) -> list[str]:
    """Entries that are missing, extra or different in `committed` compared with `fresh`."""
    old, new = _entry_signatures(committed), _entry_signatures(fresh)
    found = [f"missing: {name}" for name in sorted(set(new) - set(old))]
    found += [f"unexpected: {name}" for name in sorted(set(old) - set(new))]
    found += [f"differs: {name}" for name in sorted(set(old) & set(new)) if old[name] != new[name]]
    return found


def check(arch: str, out_dir: Path) -> list[str]:
    """What differs between `out_dir/lambda-<arch>.zip` and a fresh build (empty: up to date)."""
    committed = out_dir / archive_name(arch)
    if not committed.exists():
        return [f"{committed} does not exist"]
    with tempfile.TemporaryDirectory(prefix="lambda-check-") as temporary:
        fresh = build(arch, Path(temporary))
        return differences(committed, fresh)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", required=True, choices=sorted(PLATFORMS))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the zip in --out differs from a fresh build"
    )
    args = parser.parse_args(argv)
    try:
        if args.check:
            found = check(args.arch, args.out)
            target = args.out / archive_name(args.arch)
            if found:
                print(
                    f"{target} is out of date; rebuild it with: python lambda_src/build.py "
                    f"--arch {args.arch}",
                    file=sys.stderr,
                )
                for line in found[:20]:
                    print(f"  {line}", file=sys.stderr)
                return 1
            print(f"{target} is up to date")
            return 0
        out = build(args.arch, args.out)
    except BuildError as error:
        print(f"build.py: {error}", file=sys.stderr)
        return 2
    print(f"built {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
