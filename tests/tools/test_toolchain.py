"""tools/toolchain.py: provider mirror with a verified hash, CLI config, embedded-Terraform launcher."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("toolchain", REPO / "tools" / "toolchain.py")
assert spec and spec.loader
toolchain = importlib.util.module_from_spec(spec)
sys.modules["toolchain"] = toolchain
spec.loader.exec_module(toolchain)


def test_mirror_holds_the_verified_provider_and_config_points_at_it(tmp_path: Path) -> None:
    mirror = toolchain.install_mirror(tmp_path)
    platform_dir = mirror / "registry.terraform.io/hashicorp/aws/3.39.0/linux_amd64"
    binary = platform_dir / "terraform-provider-aws_v3.39.0_x5"
    assert binary.is_file() and os.access(binary, os.X_OK)
    assert sorted(p.name for p in platform_dir.iterdir()) == [binary.name]
    config = toolchain.write_cli_config(tmp_path, mirror).read_text()
    assert f'path    = "{mirror}"' in config
    assert '"registry.terraform.io/hashicorp/aws"' in config


def test_a_provider_zip_with_another_hash_is_refused(tmp_path: Path, monkeypatch) -> None:
    forged = tmp_path / "forged.zip"
    forged.write_bytes(b"not the provider")
    monkeypatch.setattr(toolchain, "provider_zip_from_wheel", lambda: forged)
    with pytest.raises(toolchain.ToolchainError, match="differs from HashiCorp's published"):
        toolchain.install_mirror(tmp_path / "root")


def test_launcher_runs_the_embedded_terraform_when_none_is_on_path(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + "/usr/bin:/bin")
    if any((Path(p) / "terraform").exists() for p in ("/usr/bin", "/bin")):
        pytest.skip("a terraform binary is installed system-wide in /usr/bin or /bin")
    launcher = toolchain.write_launcher(tmp_path)
    assert launcher is not None and os.access(launcher, os.X_OK)
    result = subprocess.run([str(launcher), "version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Terraform v1.")


def test_no_launcher_when_a_real_terraform_is_on_path(tmp_path: Path, monkeypatch) -> None:
    fake_bin = tmp_path / "bin-real"
    fake_bin.mkdir()
    fake = fake_bin / "terraform"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake_bin))
    assert toolchain.write_launcher(tmp_path / "root") is None
