"""tools/tfdocs.py: tables generated from variable and output blocks."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("tfdocs", REPO / "tools" / "tfdocs.py")
assert spec and spec.loader
tfdocs = importlib.util.module_from_spec(spec)
sys.modules["tfdocs"] = tfdocs
spec.loader.exec_module(tfdocs)

MODULE = """
variable "name" {
  description = "Name of the thing, with a # that is not a comment."
  type        = string
}

# a comment { with a brace
variable "settings" {
  description = "Settings."
  type = object({
    enabled = bool
    size    = optional(number, 2)
  })
  default = {
    enabled = true
  }
  validation {
    condition     = var.settings.size > 0
    error_message = "size must be positive."
  }
}

output "arn" {
  description = "ARN | of it."
  value       = "x"
}
"""


@pytest.fixture
def module(tmp_path: Path) -> Path:
    (tmp_path / "variables.tf").write_text(MODULE)
    return tmp_path


def test_reads_variables_and_outputs(module: Path) -> None:
    variables, outputs = tfdocs.read_module(module)
    by_name = {v.name: v for v in variables}
    assert by_name["name"].default is None
    assert by_name["name"].description == "Name of the thing, with a # that is not a comment."
    assert by_name["settings"].type == "object({enabled = bool, size = optional(number, 2)})"
    assert by_name["settings"].default == "{enabled = true}"
    assert [o.name for o in outputs] == ["arn"]


def test_required_inputs_come_first_and_pipes_are_escaped(module: Path) -> None:
    table = tfdocs.render(*tfdocs.read_module(module))
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert rows[0].startswith("| `name` |") and rows[0].endswith("| n/a | yes |")
    assert "ARN \\| of it." in table


def test_check_reports_stale_tables(module: Path, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{tfdocs.BEGIN}\nold\n{tfdocs.END}\noutro\n")
    argv = ["--module", str(module), "--readme", str(readme)]
    assert tfdocs.main([*argv, "--check"]) == 1
    assert tfdocs.main(argv) == 0
    assert tfdocs.main([*argv, "--check"]) == 0
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "old" not in text


def test_missing_markers_is_an_error(module: Path, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    assert tfdocs.main(["--module", str(module), "--readme", str(readme)]) == 2


def test_the_readme_tables_match_the_root_module() -> None:
    """The README's inputs/outputs tables are generated; this fails when a .tf change forgot
    `python tools/tfdocs.py`."""
    assert tfdocs.main(["--module", str(REPO), "--readme", str(REPO / "README.md"), "--check"]) == 0
