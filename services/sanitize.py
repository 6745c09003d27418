"""Text from clients is stored sanitised: no HTML tag or attribute survives.

nh3 (Ammonia) with an empty tag allow-list drops every tag and its attributes (and the
contents of script/style) and leaves HTML-safe text: ``<`` and ``&`` in the text come back
as ``&lt;`` and ``&amp;``, so the stored value is safe to render as HTML as it is.
"""

from __future__ import annotations

import unicodedata

import nh3

_NO_TAGS: set[str] = set()


def _strip_controls(value: str, keep_newlines: bool) -> str:
    allowed = {"\n"} if keep_newlines else set()
    return "".join(
        ch for ch in value if ch in allowed or unicodedata.category(ch)[0] != "C" or ch == "\t"
    )


def sanitize_line(value: str) -> str:
    """A single-line field (title, name): tags removed, whitespace collapsed (line breaks
    become spaces first: they are control characters, which are dropped)."""
    one_line = " ".join(unicodedata.normalize("NFC", value).split())
    cleaned = nh3.clean(one_line, tags=_NO_TAGS, attributes={})
    return " ".join(_strip_controls(cleaned, keep_newlines=False).split())


def sanitize_text(value: str) -> str:
    """A multi-line field (body, description): tags removed, line breaks kept, trimmed."""
    normalised = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    cleaned = nh3.clean(normalised, tags=_NO_TAGS, attributes={})
    lines = [" ".join(line.split()) for line in _strip_controls(cleaned, True).split("\n")]
    return "\n".join(lines).strip()
