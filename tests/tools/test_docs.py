"""Every test that docs/seed-defects.md names exists (the map cannot drift from the suite)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def referenced_tests() -> list[tuple[str, str]]:
    text = (REPO / "docs" / "seed-defects.md").read_text()
    found: list[tuple[str, str]] = []
    for row in text.splitlines():
        current = None
        for match in re.finditer(r"`(tests/[\w/]+\.py)?::(\w+)`", row):
            current = match.group(1) or current
            assert current, f"a bare ::{match.group(2)} needs a file before it: {row}"
            found.append((current, match.group(2)))
    return found


def test_every_named_test_exists() -> None:
    references = referenced_tests()
    assert len(references) > 20
    for path, name in references:
        source = (REPO / path).read_text()
        assert re.search(rf"^def {name}\(", source, re.M), f"{path}::{name} does not exist"


@pytest.mark.parametrize("template", ["parent", "tuner", "deployer"])
def test_the_committed_diagrams_match_the_templates(template: str, tmp_path: Path) -> None:
    """docs/img holds `smtune graph --template X` output; a template change must regenerate it."""
    from smtune.cli import main

    mermaid, image = tmp_path / f"{template}.mmd", tmp_path / f"{template}.svg"
    assert (
        main(["graph", "--template", template, "--output", str(mermaid), "--image", str(image)])
        == 0
    )
    assert mermaid.read_text() == (REPO / "docs" / "img" / f"{template}.mmd").read_text()
    assert image.read_text() == (REPO / "docs" / "img" / f"{template}.svg").read_text()
