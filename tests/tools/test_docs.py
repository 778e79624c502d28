"""Every test that docs/seed-defects.md names exists (the map cannot drift from the suite)."""

from __future__ import annotations

import re
from pathlib import Path

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
