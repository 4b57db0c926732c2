"""Crash points: a load killed (or its backend terminated) anywhere leaves before or after.

For each load mode, a child process (``tests/_crash_harness.py``) runs a DuckDB ->
PostgreSQL load of 100k rows and is killed with SIGKILL at every point of interest:
before each statement the destination runs, after each statement that changes
something, inside the COPY data, just before and just after the commit. After each
kill the destination must hold exactly the rows before or after the load (the md5 of
every row), the cursor must match the rows, no staging table may be left, and the
next run (with new source rows) must load them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import psycopg
import pytest
import yaml
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from conftest import Side, _with_database, replication_for
from typedrepl._run import replicate

pytestmark = pytest.mark.slow

HARNESS = Path(__file__).parent / "_crash_harness.py"
ROWS = 100_000
BATCH = 12_500
CHILD_TIMEOUT_S = 90.0
MODES: dict[str, dict[str, object]] = {
    "full_refresh": {"primary_key": "id"},
    "append": {},
    "merge": {"primary_key": "id"},
    "incremental": {"primary_key": "id", "cursor": "updated_at"},
}
_CHANGES = ("CREATE", "COPY", "ALTER", "DROP", "INSERT", "COMMIT")


def _source(path: Path, version: int) -> Side:
    """v0: 1000 old rows; v1: 100k rows (all changed); v2: v1, 100 updated and 1000 new."""
    side = Side("duckdb", str(path / f"source_v{version}.duckdb"))
    count = {0: 1_000, 1: ROWS, 2: ROWS + 1_000}[version]
    side.execute(
        "CREATE TABLE items AS SELECT range AS id, "  # noqa: S608
        f"'v{version}-' || range AS label, "
        f"TIMESTAMP '2024-01-01' + to_days({version}) + to_seconds(range) AS updated_at "
        f"FROM range({count})"
    )
    if version == 2:
        side.execute("UPDATE items SET updated_at = updated_at + to_days(30) WHERE id < 100")
    return side


@attrs.frozen
class World:
    """One mode's databases: the template (state before), sources and expected checksums."""

    mode: str
    server: str
    template: str
    sources: tuple[Side, Side, Side]
    before: str
    after: str
    next_from: dict[str, str]
    """``before``/``after``: the checksum the next run (source v2) must produce."""
    trace: tuple[tuple[str, str], ...] = ()
    """Every point of an undisturbed load of source v1, in order."""
    path: Path = Path()

    def table(self, version: int) -> dict[str, object]:
        return {"name": "items", "mode": self.mode, **MODES[self.mode]}

    def clone(self, name: str | None = None) -> Side:
        name = name or f"crash_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(self.template)
                )
            )
        return Side("postgres", _with_database(self.server, name))

    def load(self, destination: Side, version: int) -> None:
        replicate(
            replication_for(self.sources[version], destination, [self.table(version)]),
            batch_size=BATCH,
        )


def _drop(server: str, side: Side) -> None:
    name = str(conninfo_to_dict(side.target)["dbname"])
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def checksum(side: Side) -> str:
    rows = side.execute(
        "SELECT count(*), md5(string_agg(t::text, ',' ORDER BY id, label)) FROM items t"
    )
    return f"{rows[0][0]}:{rows[0][1]}"


@pytest.fixture(name="world", params=list(MODES), scope="module")
def fixture_world(
    request: pytest.FixtureRequest,
    postgres_server_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    mode = str(request.param)
    tmp_path = tmp_path_factory.mktemp(f"crash_{mode}")
    sources = (_source(tmp_path, 0), _source(tmp_path, 1), _source(tmp_path, 2))
    template = f"crash_tmpl_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(template)))
    seed = Side("postgres", _with_database(postgres_server_url, template))
    world = World(mode, postgres_server_url, template, sources, "", "", {})
    world.load(seed, 0)
    made: list[Side] = []
    try:
        before = checksum(seed)
        after_db = world.clone()
        made.append(after_db)
        world.load(after_db, 1)
        after = checksum(after_db)
        next_before = world.clone()
        made.append(next_before)
        world.load(next_before, 2)
        world.load(after_db, 2)
        world = attrs.evolve(
            world,
            before=before,
            after=after,
            next_from={"before": checksum(next_before), "after": checksum(after_db)},
            path=tmp_path,
        )
        assert before != after
        yield attrs.evolve(world, trace=tuple(_trace(world, tmp_path)))
    finally:
        for side in [*made, seed]:
            _drop(postgres_server_url, side)


def _config(world: World, destination: Side, path: Path) -> Path:
    config = path / f"replication_{uuid.uuid4().hex[:8]}.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "connections": {
                    "source": world.sources[1].config(),
                    "destination": destination.config(),
                },
                "tables": [world.table(1)],
            }
        )
    )
    return config


def _child(
    config: Path, spec: dict[str, object], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HARNESS), str(config), json.dumps({"batch_size": BATCH, **spec})],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        env={**os.environ, **(env or {})},
        check=False,
    )


def _trace(world: World, tmp_path: Path) -> list[tuple[str, str]]:
    destination = world.clone()
    try:
        trace = tmp_path / f"trace_{uuid.uuid4().hex[:8]}.jsonl"
        done = _child(_config(world, destination, tmp_path), {"trace": str(trace)})
        assert done.returncode == 0, done.stderr
        assert checksum(destination) == world.after
        return [(w, t) for w, t in (json.loads(line) for line in trace.read_text().splitlines())]
    finally:
        _drop(world.server, destination)


def kill_points(trace: list[tuple[str, str]]) -> list[int]:
    """The points killed at: the first session statement, before every statement of the
    load, after every statement that changes something, five COPY data chunks (first,
    quarters, last), and just before and after the commit."""
    chunks = [i for i, (_, text) in enumerate(trace) if text == "COPY data"]
    picked = {0, *(chunks[len(chunks) * k // 4] for k in range(4)), chunks[-1]}
    for i, (when, text) in enumerate(trace):
        if (text.startswith("SET ") and "LOCAL" not in text) or text == "COPY data":
            continue
        if when == "before" or text.startswith(_CHANGES):
            picked.add(i)
    return sorted(picked)


def _wait_idle(side: Side) -> None:
    """Wait (bounded) until no typedrepl backend is left on the database."""
    deadline = time.monotonic() + 30
    name = str(conninfo_to_dict(side.target)["dbname"])
    while time.monotonic() < deadline:
        rows = side.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = ? AND application_name = 'typedrepl'",
            (name,),
        )
        if rows[0][0] == 0:
            return
        time.sleep(0.05)
    raise AssertionError("a typedrepl backend is still there 30 s after its client died")


def _leftovers(side: Side) -> list[tuple[object, ...]]:
    return side.execute(
        "SELECT relname FROM pg_class WHERE relname LIKE '\\_typedrepl\\_%' "
        "AND relname NOT IN ('_typedrepl_state', '_typedrepl_state_pkey')"
    )


def _check_after_failure(world: World, destination: Side, committed: bool) -> list[str]:
    """Before or after exactly, cursor matching, no stage left, and the next run right."""
    problems: list[str] = []
    _wait_idle(destination)
    state = checksum(destination)
    expected = world.after if committed else world.before
    if state != expected:
        seen = "after" if state == world.after else "before" if state == world.before else state
        problems.append(f"destination is {seen}, not {'after' if committed else 'before'}")
    if world.mode == "incremental":
        rows = destination.execute(
            "SELECT s.cursor_value, (SELECT max(updated_at)::text FROM items) "
            "FROM _typedrepl_state s WHERE table_name = 'items'"
        )
        if len(rows) != 1 or rows[0][0] != rows[0][1]:
            problems.append(f"cursor state does not match the rows: {rows}")
    if _leftovers(destination):
        problems.append(f"staging tables left: {_leftovers(destination)}")
    try:
        world.load(destination, 2)
    except Exception as exc:
        problems.append(f"the next run failed: {exc}")
        return problems
    key = "after" if state == world.after else "before"
    if checksum(destination) != world.next_from[key]:
        problems.append("the next run did not produce the expected rows (stale or missing input)")
    return problems


def _committed(trace: list[tuple[str, str]], at: int) -> bool:
    commit = next(i for i, (w, t) in enumerate(trace) if (w, t) == ("after", "COMMIT"))
    return at >= commit


def test_kill_point(world: World, tmp_path: Path) -> None:
    trace = list(world.trace)
    points = kill_points(trace)
    assert len(points) >= 20, f"{world.mode}: only {len(points)} kill points"
    failures: list[str] = []
    for at in points:
        destination = world.clone()
        try:
            done = _child(_config(world, destination, tmp_path), {"at": at, "action": "kill"})
            where = f"{world.mode} killed at #{at} {trace[at][0]} {trace[at][1][:60]!r}"
            if done.returncode != -signal.SIGKILL:
                failures.append(f"{where}: not killed (exit {done.returncode}) {done.stderr}")
                continue
            failures += [
                f"{where}: {p}"
                for p in _check_after_failure(world, destination, _committed(trace, at))
            ]
        finally:
            _drop(world.server, destination)
    assert not failures, "\n".join(failures)


def test_kill_points_cover_every_statement(world: World) -> None:
    trace = list(world.trace)
    points = set(kill_points(trace))
    for i, (when, text) in enumerate(trace):
        if when == "before" and text != "COPY data" and not text.startswith("SET "):
            assert i in points, f"no kill point before {text!r}"
        if when == "after" and text.startswith(_CHANGES):
            assert i in points, f"no kill point after {text!r}"
    assert any(trace[i] == ("before", "COMMIT") for i in points)
    assert any(trace[i] == ("after", "COMMIT") for i in points)


def test_terminated_backend(world: World, tmp_path: Path) -> None:
    """pg_terminate_backend at every 4th kill point: a clear error (or success after commit)."""
    trace = list(world.trace)
    failures: list[str] = []
    for at in kill_points(trace)[1::4]:
        destination = world.clone()
        try:
            started = time.monotonic()
            done = _child(_config(world, destination, tmp_path), {"at": at, "action": "terminate"})
            where = f"{world.mode} backend terminated at #{at} {trace[at][1][:60]!r}"
            committed = _committed(trace, at)
            if committed and done.returncode != 0:
                failures.append(f"{where}: failed after its commit: {done.stderr}")
            if not committed:
                message = done.stderr.lower()
                if done.returncode != 3 or not (
                    "terminat" in message or "connection" in message or "closed" in message
                ):
                    failures.append(f"{where}: unclear end (exit {done.returncode}): {done.stderr}")
            if time.monotonic() - started > 60:
                failures.append(f"{where}: took {time.monotonic() - started:.0f}s")
            failures += [
                f"{where}: {p}" for p in _check_after_failure(world, destination, committed)
            ]
        finally:
            _drop(world.server, destination)
    assert not failures, "\n".join(failures)


def test_statement_timeout(world: World, tmp_path: Path) -> None:
    """A tiny statement_timeout (PGOPTIONS): a clear, bounded error; the destination unchanged."""
    destination = world.clone()
    try:
        started = time.monotonic()
        done = _child(
            _config(world, destination, tmp_path),
            {},
            env={"PGOPTIONS": "-c statement_timeout=5"},
        )
        assert time.monotonic() - started < 60
        assert done.returncode == 3, done.stderr
        assert "statement timeout" in done.stderr
        assert not _check_after_failure(world, destination, committed=False)
    finally:
        _drop(world.server, destination)


def test_duckdb_destination_killed_mid_load(
    make_side: Callable[[str], Side], tmp_path: Path
) -> None:
    """DuckDB as the destination: killed mid-insert or just before COMMIT, the file
    reopens in its state before; killed after COMMIT, after; the next run completes."""
    sources = (_source(tmp_path, 0), _source(tmp_path, 1), _source(tmp_path, 2))
    table = {"name": "items", "primary_key": "id", "mode": "merge"}

    def sum_of(side: Side) -> str:
        row = side.execute(
            "SELECT count(*), md5(string_agg(CAST(t AS VARCHAR), ',' ORDER BY id)) FROM items t"
        )[0]
        return f"{row[0]}:{row[1]}"

    reference = make_side("duckdb")
    replicate(replication_for(sources[0], reference, [table]))
    before = sum_of(reference)
    replicate(replication_for(sources[1], reference, [table]))
    after = sum_of(reference)
    trace_side = make_side("duckdb")
    replicate(replication_for(sources[0], trace_side, [table]))
    trace_file = tmp_path / "duck_trace.jsonl"
    config = tmp_path / "duck.yaml"

    def write_config(destination: Side) -> None:
        config.write_text(
            yaml.safe_dump(
                {
                    "connections": {
                        "source": sources[1].config(),
                        "destination": destination.config(),
                    },
                    "tables": [table],
                }
            )
        )

    write_config(trace_side)
    assert _child(config, {"trace": str(trace_file)}).returncode == 0
    trace = [tuple(json.loads(line)) for line in trace_file.read_text().splitlines()]
    inserts = [
        i for i, (w, t) in enumerate(trace) if w == "before" and t.startswith(("INSERT", "MERGE"))
    ]
    commit = trace.index(("before", "COMMIT"))
    for at, expected in (
        (inserts[len(inserts) // 2], before),
        (commit, before),
        (commit + 1, after),
    ):
        destination = make_side("duckdb")
        replicate(replication_for(sources[0], destination, [table]))
        write_config(destination)
        done = _child(config, {"at": at, "action": "kill"})
        assert done.returncode == -signal.SIGKILL, done.stderr
        assert sum_of(destination) == expected, f"killed at {trace[at]}"
        (result,) = replicate(replication_for(sources[2], destination, [table]))
        assert result.rows_in_destination == ROWS + 1_000
