"""``ReplicationComponent``: a replication file as Dagster assets, declared in ``defs.yaml``.

Example ``defs.yaml``::

    type: typedrepl.ReplicationComponent
    attributes:
      replication: replication.yaml      # relative to this defs.yaml
      translation:
        key_prefix: raw
        group_name: raw
        tags: {layer: raw}
        owners: [team:data]
      asset_checks: true
      resource:
        destination_url_env: TYPEDREPL_DESTINATION_URL

This module defines an asset body, so it must not use ``from __future__ import
annotations`` (see :mod:`typedrepl._assets`).
"""

import inspect
from collections.abc import Callable, Iterator
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Component,
    ComponentLoadContext,
    Definitions,
    EnvVar,
    Model,
    Resolvable,
)
from pydantic import Field

from typedrepl._assets import ReplicationEvent, replication_assets, replication_graph_assets
from typedrepl._loading import load_replication
from typedrepl._models import Replication, Table
from typedrepl._resource import ReplicationResource
from typedrepl._run import DEFAULT_BATCH_ROWS
from typedrepl._translator import ReplicationTranslator

__all__ = ["ReplicationComponent"]


class TranslationModel(Model):
    """How tables become assets (see :class:`typedrepl.ReplicationTranslator`)."""

    key_prefix: str | list[str] = Field(default_factory=list)
    """Segments before the table name in each key: ``raw/pg`` or a list."""
    group_name: str | None = None
    """The group of tables whose ``meta`` names none."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Tags of every asset (a table's ``meta.tags`` win)."""
    kinds: list[str] | None = None
    """Kinds of every asset (default: the source and destination types)."""
    owners: list[str] = Field(default_factory=list)
    """Owners of tables whose ``meta`` names none."""


class ResourceModel(Model):
    """Settings of the :class:`typedrepl.ReplicationResource` the component provides."""

    batch_size: int = DEFAULT_BATCH_ROWS
    source_url_env: str | None = None
    """An environment variable whose value replaces the source connection string."""
    destination_url_env: str | None = None
    """An environment variable whose value replaces the destination connection string."""


class ReplicationComponent(Component, Model, Resolvable):
    """The tables of a replication file as assets, one per table.

    By default the component also provides a :class:`typedrepl.ReplicationResource`
    under ``resource_key``; set ``provide_resource: false`` to use one defined elsewhere
    (two components providing one key conflict: give each its own ``resource_key``).
    """

    replication: str
    """The replication file, relative to the component's folder."""
    translation: TranslationModel = Field(default_factory=TranslationModel)
    name: str | None = None
    """The op (or graph) name; default: ``<component folder>_replication``."""
    one_op_per_table: bool = False
    """Use a graph of one op per table (tables run in parallel under multiprocess)."""
    asset_checks: bool = False
    """Declare row-count and primary-key asset checks."""
    pool: str | None = None
    op_tags: dict[str, str] | None = None
    resource_key: str = "replicator"
    provide_resource: bool = True
    resource: ResourceModel = Field(default_factory=ResourceModel)

    def replication_path(self, context: ComponentLoadContext) -> Path:
        """The replication file: absolute, or relative to the component's folder."""
        base = context.path if context.path.is_dir() else context.path.parent
        return base / self.replication

    def read_replication(self, context: ComponentLoadContext) -> Replication[Table]:
        """The replication the component describes (``ConfigError`` if it is invalid)."""
        return load_replication(self.replication_path(context))

    def translator(self) -> ReplicationTranslator[Table]:
        """The translator built from ``translation``."""
        settings = self.translation
        return ReplicationTranslator[Table](
            key_prefix=settings.key_prefix,
            group_name=settings.group_name,
            tags=settings.tags,
            kinds=settings.kinds,
            owners=settings.owners,
        )

    def build_assets(self, context: ComponentLoadContext) -> AssetsDefinition:
        """The replication's assets, in the configured form."""
        replication = self.read_replication(context)
        name = self.name or _default_name(context)
        if self.one_op_per_table:
            return replication_graph_assets(
                replication=replication,
                translator=self.translator(),
                name=name,
                resource_key=self.resource_key,
                op_tags=self.op_tags,
                pool=self.pool,
                asset_checks=self.asset_checks,
            )
        decorate = replication_assets(
            replication=replication,
            translator=self.translator(),
            name=name,
            op_tags=self.op_tags,
            pool=self.pool,
            asset_checks=self.asset_checks,
        )
        return decorate(_body(self.resource_key))

    def build_resource(self) -> ReplicationResource:
        """The resource the component provides."""
        settings = self.resource
        return ReplicationResource(
            batch_size=settings.batch_size,
            source_url=_env(settings.source_url_env),
            destination_url=_env(settings.destination_url_env),
        )

    def build_defs(self, context: ComponentLoadContext) -> Definitions:
        """The assets, and the resource unless ``provide_resource`` is false."""
        resources = {self.resource_key: self.build_resource()} if self.provide_resource else {}
        return Definitions(assets=[self.build_assets(context)], resources=resources)


def _env(name: str | None) -> str | None:
    return None if name is None else EnvVar(name)


def _default_name(context: ComponentLoadContext) -> str:
    """``<folder>_replication``: the component's folder name, made a valid op name."""
    folder = context.path if context.path.is_dir() else context.path.parent
    stem = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in folder.name)
    return f"{stem.strip('_') or 'tables'}_replication"


def _body(resource_key: str) -> Callable[..., Iterator[ReplicationEvent]]:
    """An asset body taking the resource under ``resource_key`` (any valid name)."""

    def body(
        context: AssetExecutionContext, **resources: ReplicationResource
    ) -> Iterator[ReplicationEvent]:
        yield from resources[resource_key].run(context)

    body.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "context", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=AssetExecutionContext
            ),
            inspect.Parameter(
                resource_key, inspect.Parameter.KEYWORD_ONLY, annotation=ReplicationResource
            ),
        ],
        return_annotation=Iterator[ReplicationEvent],
    )
    return body
