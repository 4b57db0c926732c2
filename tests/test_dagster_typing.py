"""mypy --strict accepts the typed Dagster API used right and rejects it used wrong.

``tests/typing_dagster/accepted.py`` must type-check cleanly. Each file in
``tests/typing_dagster/rejected/`` marks every line mypy must reject with
``# E: <error code>``; mypy must report exactly those lines and codes, nothing else.
"""

import re
from pathlib import Path

import pytest

from conftest import run_mypy

ROOT = Path(__file__).parent.parent
CASES = Path(__file__).parent / "typing_dagster"
REJECTED = sorted((CASES / "rejected").glob("*.py"))
_ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z0-9-]+)\]$")
_EXPECTED = re.compile(r"#\s*E:\s*(?P<code>[a-z0-9-]+)")


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.fixture(scope="module", name="mypy_errors")
def fixture_mypy_errors() -> dict[str, set[tuple[int, str]]]:
    """One mypy run over every case: ``{file: {(line, code)}}``.

    It shares the project's mypy cache (``scripts/test`` runs mypy first, so it is warm).
    """
    files = [_relative(CASES / "accepted.py"), *map(_relative, REJECTED)]
    stdout, _ = run_mypy(*files)
    errors: dict[str, set[tuple[int, str]]] = {}
    for line in stdout.splitlines():
        match = _ERROR.match(line)
        if match:
            errors.setdefault(match["file"], set()).add((int(match["line"]), match["code"]))
    return errors


def test_accepted_cases_type_check(mypy_errors: dict[str, set[tuple[int, str]]]) -> None:
    """Translators receive the user's table type; decorators and specs are fully typed."""
    assert mypy_errors.get(_relative(CASES / "accepted.py"), set()) == set()


def test_every_rejected_case_marks_its_errors() -> None:
    """Each rejected file expects at least one error (a file expecting none tests nothing)."""
    assert REJECTED
    for path in REJECTED:
        assert _EXPECTED.search(path.read_text()), path


@pytest.mark.parametrize("path", REJECTED, ids=lambda p: p.stem)
def test_rejected_cases_fail_exactly_where_marked(
    path: Path, mypy_errors: dict[str, set[tuple[int, str]]]
) -> None:
    """Wrong overrides, translators for another table type, wrong returns: mypy errors."""
    expected = {
        (number, match["code"])
        for number, text in enumerate(path.read_text().splitlines(), start=1)
        if (match := _EXPECTED.search(text))
    }
    assert mypy_errors.get(_relative(path), set()) == expected
