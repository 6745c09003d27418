"""``attach_each``: one value per item under a slot, beside what other slots hold."""

from __future__ import annotations

import pytest

from resolvers.attachments import MISSING, attach_each, attached


class Item:
    pass


def test_each_item_gets_its_own_value_under_the_slot():
    items = [Item(), Item()]

    attach_each(items, "author", ["ada", "bob"])

    assert [attached(item, "author") for item in items] == ["ada", "bob"]


def test_a_second_slot_keeps_the_first_ones_values():
    item = Item()
    attach_each([item], "author", ["ada"])

    attach_each([item], "count", [3])

    assert (attached(item, "author"), attached(item, "count")) == ("ada", 3)


def test_a_slot_nothing_was_attached_under_is_missing():
    item = Item()
    attach_each([item], "author", ["ada"])

    assert attached(item, "count") is MISSING
    assert attached(Item(), "author") is MISSING


def test_fewer_values_than_items_is_an_error():
    with pytest.raises(ValueError, match="shorter"):
        attach_each([Item(), Item()], "author", ["ada"])
