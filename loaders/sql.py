"""For the statements written by hand in loaders/ (windowed pages, grouped counts): the
only values formatted into their SQL are ids, and only as integers."""

from __future__ import annotations

from collections.abc import Iterable


def id_list(ids: Iterable[int]) -> str:
    """The distinct ids as the inside of a SQL ``IN (…)``, in ascending order ("" for none);
    anything that is not an integer raises."""
    return ",".join(str(pk) for pk in sorted({int(pk) for pk in ids}))
