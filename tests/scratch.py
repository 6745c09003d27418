"""Where the tests write files: one temporary directory per run, never the working tree's
``data/`` (a developer's outbox, uploads and SQLite database live there)."""

from __future__ import annotations

import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
WORKING_TREE_DATA = PROJECT_ROOT / "data"

SCRATCH = Path(tempfile.mkdtemp(prefix="agora-tests-"))
OUTBOX_DIR = SCRATCH / "outbox"
FILES_DIR = SCRATCH / "files"

Snapshot = dict[str, tuple[int, int] | None]


def snapshot(root: Path) -> Snapshot:
    """Every path under ``root``: a file's (size, mtime), None for a directory."""
    if not root.exists():
        return {}
    return {
        str(path.relative_to(root)): None
        if path.is_dir()
        else (path.stat().st_size, path.stat().st_mtime_ns)
        for path in root.rglob("*")
    }


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """The paths created, changed or removed between two snapshots."""
    return sorted(
        path
        for path in before.keys() | after.keys()
        if before.get(path, ...) != after.get(path, ...)
    )
