#!/usr/bin/env python3
"""Rewrite the generated sections of README.md: the type mapping and the fidelity matrix.

TYPES comes from ``typedrepl._types.type_mapping_rows()``; FIDELITY (the matrix and the
guarantees, each with the test that proves it) from ``tests/_fidelity_cases.py``.
``tests/test_fidelity.py::test_readme_is_current`` fails when README.md differs from what
this script writes. Usage: ``.venv/bin/python scripts/update_readme.py [--check]``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

from _fidelity_cases import render_fidelity, render_types  # noqa: E402
from typedrepl._types import type_mapping_rows  # noqa: E402


def _replace(text: str, name: str, body: str) -> str:
    pattern = re.compile(f"(<!-- {name}:START -->\n).*?(<!-- {name}:END -->)", re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"README.md has no <!-- {name}:START/END --> markers")
    return pattern.sub(lambda m: m[1] + body.strip() + "\n" + m[2], text, count=1)


def render(text: str) -> str:
    """``text`` (README.md) with both generated sections rewritten."""
    text = _replace(text, "TYPES", render_types(type_mapping_rows()))
    return _replace(text, "FIDELITY", render_fidelity())


def main(argv: list[str]) -> int:
    readme = ROOT / "README.md"
    current = readme.read_text(encoding="utf-8")
    wanted = render(current)
    if "--check" in argv:
        if wanted != current:
            print("README.md is stale: run scripts/update_readme.py", file=sys.stderr)
            return 1
        return 0
    if wanted != current:
        readme.write_text(wanted, encoding="utf-8")
        print("README.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
