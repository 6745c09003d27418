"""``serve --workers N``: where the workers keep their metric values (server/shared_metrics.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.metrics import MULTIPROCESS_DIR_VARIABLE
from server.shared_metrics import shared_metrics_dir


@pytest.fixture(autouse=True)
def no_multiprocess_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MULTIPROCESS_DIR_VARIABLE, raising=False)


def test_one_worker_keeps_the_plain_registry() -> None:
    with shared_metrics_dir(1) as path:
        assert path is None
        assert MULTIPROCESS_DIR_VARIABLE not in os.environ


def test_several_workers_get_a_temporary_directory_removed_at_exit() -> None:
    with shared_metrics_dir(2) as path:
        assert path is not None
        assert os.environ[MULTIPROCESS_DIR_VARIABLE] == path
        assert Path(path).is_dir()

    assert not Path(path).exists()
    assert MULTIPROCESS_DIR_VARIABLE not in os.environ


def test_a_configured_directory_is_emptied_of_an_earlier_runs_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MULTIPROCESS_DIR_VARIABLE, str(tmp_path))
    (tmp_path / "counter_4242.db").write_bytes(b"stale")
    (tmp_path / "notes.txt").write_text("kept")

    with shared_metrics_dir(4) as path:
        assert path == str(tmp_path)
        assert not (tmp_path / "counter_4242.db").exists()

    assert (tmp_path / "notes.txt").exists()  # not ours to remove, nor is the directory
