"""Set-based helpers for the bulk writers (scheduled jobs, inbox fan-out): a list of ids goes to the database as one
value, not one parameter or one statement per row.

On PostgreSQL a list is one array parameter (`= ANY(:ids)`, `unnest(:ids)`); elsewhere (SQLite in tests) it falls
back to an expanding IN list and json_each over one JSON parameter, which are fine at test sizes.
"""

import json

from sqlalchemy import BigInteger, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from backend.extensions import db


def _postgresql():
    return db.session.get_bind().dialect.name == "postgresql"


def id_in(column, ids):
    """`column IN ids` as one array parameter on PostgreSQL."""
    ids = list(ids)
    if _postgresql():
        return column == func.any(bindparam(None, ids, type_=ARRAY(BigInteger)))
    return column.in_(ids)


def id_rows(ids, name="id"):
    """A FROM-able selectable with one row per id (column `name`), for INSERT … SELECT fan-out."""
    ids = list(ids)
    if _postgresql():
        return select(func.unnest(bindparam(None, ids, type_=ARRAY(BigInteger))).label(name)).subquery()
    rows = func.json_each(json.dumps(ids)).table_valued("value")  # SQLite: one JSON parameter
    return select(rows.c.value.label(name)).subquery()
