"""Which replication the running ``@replication_assets`` body belongs to.

The decorator wraps its body so that, while the body runs, :func:`current_declaration`
returns the declaration the decorator computed; ``ReplicationResource.run(context)``
reads it. Nothing is stored in asset metadata or in a global registry, and a process
that re-imports the code (the multiprocess executor) rebuilds the same declaration.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from typedrepl._specs import ReplicationDeclaration

__all__ = ["bound_declaration", "current_declaration"]

_CURRENT: ContextVar[ReplicationDeclaration | None] = ContextVar(
    "typedrepl_declaration", default=None
)


@contextlib.contextmanager
def bound_declaration(declaration: ReplicationDeclaration) -> Iterator[None]:
    """Make ``declaration`` the current one while the ``with`` block runs."""
    token = _CURRENT.set(declaration)
    try:
        yield
    finally:
        # a generator closed from another context cannot reset; its context is gone anyway
        with contextlib.suppress(ValueError):
            _CURRENT.reset(token)


def current_declaration() -> ReplicationDeclaration | None:
    """The declaration of the ``@replication_assets`` body running now, if any."""
    return _CURRENT.get()
