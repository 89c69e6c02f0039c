"""The export kinds: each capability registers its own with @export_kind in its `exports.py`.

A kind is a function `(actor, params) -> Source`. Called at request time it checks the parameters and the actor's
scope (raising the capability's own errors) and returns at once: the rows are a generator, not read until the worker
iterates them. The worker calls it again with the same actor and parameters, so the checks are made a second time
against the data as it is then.

Rows come from the database in batches keyed by id (keyset_batches): never all rows at once, never OFFSET.
"""

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from backend.extensions import db

# The modules that register kinds; loaded on first lookup (a capability adding a kind adds its module here).
KIND_MODULES = ("backend.travel.exports", "backend.registration.exports", "backend.veterans.exports")
KIND_MODULES += ("backend.funding.exports",)  # care slice (issue 16, C4)
KIND_MODULES += ("backend.pension.funding",)  # issue 18, part 3: retirement pay funding totals
KIND_MODULES += ("backend.pension.adjust_exports",)  # issue 18, part 2: adjustment batch lines
KIND_MODULES += ("backend.assessment.exports",)  # issue 20: the assessment table
BATCH = 2000


@dataclass
class Source:
    """What a kind hands to the writer."""

    header: list
    rows: Iterable  # lazy: a generator over batches
    params: dict = field(default_factory=dict)  # the checked parameters, stored on the job (never personal data)
    unit_id: int | None = None  # the unit the export covers (default: the actor's own)
    count: Callable[[], int | None] | None = None  # an estimate of the rows, for the progress bar (worker only)


@dataclass(frozen=True)
class Kind:
    name: str
    permission: str
    title: str  # the sheet title and the file name's start, in Chinese
    build: Callable


_KINDS = {}


def export_kind(name, *, permission, title):
    """Register the decorated `(actor, params) -> Source` as export kind `name`."""

    def register(build):
        _KINDS[name] = Kind(name=name, permission=permission, title=title, build=build)
        return build

    return register


def get_kind(name):
    """The Kind registered as `name`, or None."""
    for module in KIND_MODULES:
        importlib.import_module(module)
    return _KINDS.get(name)


def kind_titles():
    """{kind name: title} of every registered kind."""
    for module in KIND_MODULES:
        importlib.import_module(module)
    return {name: kind.title for name, kind in _KINDS.items()}


def keyset_batches(query, id_column, *, batch=BATCH):
    """Yield the rows of a column SELECT (`query`, which must select `id_column` first) in id order, `batch` rows per
    query: `WHERE id > last ORDER BY id LIMIT batch`. Plain rows, not ORM objects, so nothing piles up in the session
    however many rows pass."""
    last = None
    while True:
        page = query if last is None else query.where(id_column > last)
        rows = db.session.execute(page.order_by(id_column).limit(batch)).all()
        if not rows:
            return
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1][0]
