"""For the statements written by hand in loaders/ (windowed pages, grouped counts): the
only values formatted into their SQL are ids, and only as integers (``id_list``, kept beside
``models.rows.models_by_ids``, which services use too)."""

from __future__ import annotations

from models.rows import id_list

__all__ = ["id_list"]
