"""``LIBRARY_SHORTCUTS``: the process-wide half of the switch, read where each shortcut runs
(``models.hydration.FastHydration``, ``loaders.level.load_level``); the schema's half is
chosen in ``schema.build_schema``. docs/ARCHITECTURE.md, "Fenced library internals"."""

from __future__ import annotations

# Read on every hydrated row: a module attribute, not a function call.
enabled = True


def use_library_shortcuts(on: bool) -> None:
    """Our hydration and level batches (True), or Tortoise's and the DataLoader's own paths."""
    global enabled
    enabled = on
