"""``id_list``: what the hand-written statements of loaders/ format into their SQL."""

from __future__ import annotations

import pytest

from loaders.sql import id_list


def test_ids_are_distinct_and_ascending():
    assert id_list([7, 3, 7, 12]) == "3,7,12"


def test_no_ids_make_an_empty_list():
    assert id_list([]) == ""


def test_anything_but_an_integer_is_refused():
    with pytest.raises(ValueError, match="invalid literal"):
        id_list([1, "2); DROP TABLE users; --"])  # type: ignore[list-item]
