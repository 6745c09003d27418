"""``LIBRARY_SHORTCUTS``: the process-wide half of the switch (the schema's half is chosen in
``schema.build_schema``). docs/ARCHITECTURE.md, "Fenced library internals"."""

from __future__ import annotations

from loaders.level import use_level_batches
from models.hydration import use_fast_hydration


def use_library_shortcuts(enabled: bool) -> None:
    """Our hydration and level batches (True), or Tortoise's and the DataLoader's own paths."""
    use_fast_hydration(enabled)
    use_level_batches(enabled)
