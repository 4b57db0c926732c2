"""The dry run behind ``typedrepl.testing.assert_keys_match_dry_run``: no database touched.

Both asset forms are built and their keys checked against the declaration; then
selections are mapped to the tables the resource would run, and back to the keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from dagster import AssetExecutionContext, AssetsDefinition, MaterializeResult

from typedrepl._assets import replication_assets, replication_graph_assets
from typedrepl._check_keys import Declared, check_selection
from typedrepl._check_report import Failure, key_order, show_example, show_keys, translator_name
from typedrepl._models import Replication, TableT
from typedrepl._specs import AssetSpecError, declare_replication
from typedrepl._translator import Translator

__all__ = ["check_dry_run"]


def _dry_run_body(context: AssetExecutionContext) -> Iterator[MaterializeResult[None]]:
    """The body of the assets built for a dry run: never executed."""
    yield from ()


def _selections(names: Sequence[str]) -> Iterator[list[str]]:
    """Every table, each table alone, and every table but one."""
    yield list(names)
    for name in names:
        yield [name]
    if len(names) > 2:
        for name in names:
            yield [n for n in names if n != name]


def check_dry_run(replication: Replication[TableT], translator: Translator[TableT] | None) -> int:
    """Implements ``typedrepl.testing.assert_keys_match_dry_run``; returns the key count."""
    name = translator_name(translator)
    try:
        declaration = declare_replication(replication, translator, asset_checks=True)
    except AssetSpecError as exc:
        involved = [t for t in replication.tables if t.name in exc.tables]
        msg = f"the replication's assets cannot be declared: {exc}\n{show_example(involved)}"
        raise AssertionError(msg) from None
    forms: dict[str, Callable[[], AssetsDefinition]] = {
        "@replication_assets": lambda: replication_assets(
            replication=replication, translator=translator, name="typedrepl_dry_run",
            asset_checks=True,
        )(_dry_run_body),
        "replication_graph_assets": lambda: replication_graph_assets(
            replication=replication, translator=translator, name="typedrepl_dry_run",
            asset_checks=True,
        ),
    }  # fmt: skip
    declared = {d.key for d in declaration.tables}
    for form, build in forms.items():
        try:
            assets = build()
        except Exception as exc:
            msg = f"Dagster rejects the assets ({form}, translator {name}): {type(exc).__name__}: {exc}"
            raise AssertionError(msg) from None
        if set(assets.keys) != declared:
            extra = sorted(set(assets.keys) - declared, key=key_order)
            missing = sorted(declared - set(assets.keys), key=key_order)
            msg = (
                f"the assets of {form} are not the declared ones (translator {name}): "
                f"extra {show_keys(extra)}, missing {show_keys(missing)}"
            )
            raise AssertionError(msg)
        outputs = dict(assets.keys_by_output_name)
        if outputs != declaration.keys_by_output_name:
            msg = f"the op outputs of {form} do not map to the declared keys (translator {name})"
            raise AssertionError(msg)
    full = Declared(
        tables=tuple(replication.tables),
        specs=tuple(d.spec for d in declaration.tables),
        declaration=declaration,
    )
    for selection in _selections([t.name for t in replication.tables]):
        try:
            check_selection(full, selection, name)
        except Failure as failure:
            raise AssertionError(str(failure)) from None
    return len(declared)
