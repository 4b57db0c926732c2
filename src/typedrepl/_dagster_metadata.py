"""What a table's load reports to Dagster: materialization metadata and failures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dagster import (
    AssetKey,
    Failure,
    MetadataValue,
    TableColumn,
    TableColumnConstraints,
    TableSchema,
)

from typedrepl._results import TableResult
from typedrepl.errors import TableFailure

__all__ = ["materialization_metadata", "replication_failure"]


def materialization_metadata(result: TableResult) -> dict[str, MetadataValue]:
    """Dagster's standard table metadata plus typedrepl's own (JSON-safe, no secrets)."""
    schema = TableSchema(
        columns=[
            TableColumn(
                name=column.name,
                type=column.type,
                constraints=TableColumnConstraints(nullable=column.nullable),
            )
            for column in result.columns
        ]
    )
    metadata: dict[str, MetadataValue] = {
        "dagster/row_count": MetadataValue.int(result.rows_in_destination),
        "dagster/column_schema": MetadataValue.table_schema(schema),
        "dagster/table_name": MetadataValue.text(result.destination),
        "typedrepl/table": MetadataValue.text(result.table),
        "typedrepl/mode": MetadataValue.text(result.mode.value),
        "typedrepl/rows_written": MetadataValue.int(result.rows_written),
        "typedrepl/duration_s": MetadataValue.float(result.duration_s),
        "typedrepl/created": MetadataValue.bool(result.created),
    }
    if result.cursor is not None:
        metadata["typedrepl/cursor"] = MetadataValue.text(result.cursor)
    if result.added_columns:
        metadata["typedrepl/added_columns"] = MetadataValue.json(list(result.added_columns))
    return metadata


def replication_failure(
    failures: Sequence[TableFailure],
    keys: Mapping[str, AssetKey],
    *,
    attempted: int,
    not_run: Sequence[tuple[str, AssetKey]] = (),
) -> Failure:
    """A Dagster failure naming every failed table, its asset and its (redacted) cause.

    ``not_run``: the tables (name, key) that depend on the failed ones and therefore do
    not run (the graph form: Dagster does not start an op after its upstream op failed).
    """
    count = len(failures)
    lines = [f"{count} of {attempted} table{'s' if attempted != 1 else ''} failed:"]
    details: list[dict[str, str]] = []
    for failure in failures:
        key = keys.get(failure.table)
        asset = key.to_user_string() if key is not None else "?"
        error = failure.error.removeprefix(f"table {failure.table!r}: ")
        lines.append(f"  table {failure.table!r} (asset {asset}): {failure.error_type}: {error}")
        details.append(
            {
                "table": failure.table,
                "asset_key": asset,
                "error_type": failure.error_type,
                "error": failure.error,
            }
        )
    metadata = {"typedrepl/failed_tables": MetadataValue.json(details)}
    if not_run:
        lines.append(
            f"not run in this run, as {'it depends' if len(not_run) == 1 else 'they depend'} "
            f"on {'it' if count == 1 else 'them'} (Dagster does not start an op after an op "
            "it waits for failed):"
        )
        lines.extend(f"  table {name!r} (asset {key.to_user_string()})" for name, key in not_run)
        metadata["typedrepl/not_run_tables"] = MetadataValue.json(
            [{"table": name, "asset_key": key.to_user_string()} for name, key in not_run]
        )
    return Failure(description="\n".join(lines), metadata=metadata)
