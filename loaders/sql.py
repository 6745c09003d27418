"""For the statements written by hand in loaders/ (nested pages, grouped counts): ids go to
PostgreSQL as one array parameter (``takes_id_arrays``) and into SQLite's text only as
integers (``id_list``); both kept beside ``models.rows.models_by_ids``, which services use too."""

from __future__ import annotations

from models.rows import distinct_ids, id_list, takes_id_arrays

__all__ = ["distinct_ids", "id_list", "takes_id_arrays"]
