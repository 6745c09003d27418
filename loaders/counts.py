"""Per-parent row counts for a whole level in ONE grouped statement, written by hand:
Tortoise's ``annotate(Count).group_by().values()`` spent more time building the query
than the database spent answering it.

Only ids (as integers, ``loaders/sql.py``) and identifiers and conditions from our own
code are formatted into the SQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.models import Model

from loaders.sql import distinct_ids, takes_id_arrays


async def counts_by(
    model: type[Model], parent_column: str, parent_ids: Sequence[int], where_sql: str = ""
) -> list[int]:
    """The number of ``model`` rows per id in ``parent_ids`` (0 when none), in order."""
    ids = distinct_ids(parent_ids)
    if not ids:
        return [0] * len(parent_ids)
    table = model._meta.db_table
    select = f'SELECT "{parent_column}" AS parent, COUNT(*) AS total FROM "{table}" '  # noqa: S608
    group = f'{where_sql} GROUP BY "{parent_column}"'
    if takes_id_arrays(model):
        sql = f'{select}WHERE "{parent_column}" = ANY($1::bigint[]){group}'
        rows = await model._meta.db.execute_query_dict(sql, [ids])
    else:
        sql = f'{select}WHERE "{parent_column}" IN ({",".join(map(str, ids))}){group}'
        rows = await model._meta.db.execute_query_dict(sql)
    counts = {int(row["parent"]): int(row["total"]) for row in rows}
    return [counts.get(int(parent_id), 0) for parent_id in parent_ids]
