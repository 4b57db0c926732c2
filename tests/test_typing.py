"""The public API's types, checked by mypy itself.

``tests/typing/accepted_config.py`` must type-check (``assert_type`` proves each inferred type);
every line of ``tests/typing/rejected/*.py`` marked ``# E: <code> ...`` must be reported
with exactly those error codes, and nothing else may be reported. One mypy run checks all
of them, with mypy's default cache (``.mypy_cache``, shared with ``mypy src tests``, so
usually warm: under a second; cold, it parses the engine's dependencies too, ~15 s).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from conftest import run_mypy

ROOT = Path(__file__).resolve().parent.parent
TYPING = ROOT / "tests" / "typing"
ACCEPTED = TYPING / "accepted_config.py"
REJECTED = sorted((TYPING / "rejected").glob("*.py"))

_EXPECT = re.compile(r"#\s*E:\s*(?P<codes>[a-z0-9-]+(?:[\s,]+[a-z0-9-]+)*)\s*$")
_ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z0-9-]+)\]$")

Finding = tuple[str, int, str]
"""``(file relative to the repo, line, error code)``."""


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _expected(path: Path) -> Counter[Finding]:
    found: Counter[Finding] = Counter()
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _EXPECT.search(text)
        if match:
            for code in re.split(r"[\s,]+", match["codes"]):
                found[_relative(path), number, code] += 1
    return found


@pytest.fixture(scope="module", name="mypy_report")
def fixture_mypy_report() -> tuple[str, int]:
    """mypy's output and exit status for the accepted file and every rejected one, in one run."""
    return run_mypy(_relative(ACCEPTED), *(_relative(path) for path in REJECTED))


def _errors(report: str, file: str) -> Counter[Finding]:
    found: Counter[Finding] = Counter()
    for line in report.splitlines():
        match = _ERROR.match(line)
        if match and match["file"] == file:
            found[match["file"], int(match["line"]), match["code"]] += 1
    return found


def test_every_error_line_is_understood(mypy_report: tuple[str, int]) -> None:
    """Each ``error:`` line parses, so none can slip past the per-file comparisons."""
    report, status = mypy_report
    errors = [line for line in report.splitlines() if ": error: " in line]
    unparsed = [line for line in errors if not _ERROR.match(line)]
    assert unparsed == []
    assert status == 1  # the rejected files do have errors
    checked = {_relative(ACCEPTED), *(_relative(p) for p in REJECTED)}
    assert {line.split(":", 1)[0] for line in errors} <= checked


def test_accepted_code_type_checks(mypy_report: tuple[str, int]) -> None:
    report, _ = mypy_report
    file = _relative(ACCEPTED)
    assert [line for line in report.splitlines() if line.startswith(file)] == []


def test_there_are_rejected_files() -> None:
    expected = {"checks.py", "loading.py", "models.py", "running.py", "strategies.py"}
    assert {p.name for p in REJECTED} >= expected
    assert all(_expected(path) for path in REJECTED)


@pytest.mark.parametrize("path", REJECTED, ids=lambda p: p.name)
def test_rejected_code_reports_exactly_the_expected_errors(
    mypy_report: tuple[str, int], path: Path
) -> None:
    report, _ = mypy_report
    file = _relative(path)
    expected = _expected(path)
    actual = _errors(report, file)
    missing = sorted((expected - actual).elements())
    unexpected = sorted((actual - expected).elements())
    assert (missing, unexpected) == ([], []), report
