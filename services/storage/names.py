"""Client filenames: cleaned before they are stored, encoded when they are served."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

FILENAME_MAX = 150
EXTENSION_MAX = 10
FALLBACK_STEM = "file"
# Characters Windows forbids in names (and which HTML would care about).
_FORBIDDEN = frozenset('<>:"/\\|?*')
# Control characters that separate words: they become spaces; other controls are dropped.
_BLANKS = frozenset("\t\n\r\v\f")
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{n}" for n in range(1, 10)}
    | {f"lpt{n}" for n in range(1, 10)}
)


def sanitize_filename(name: str | None, *, default_extension: str | None = None) -> str:
    """The last path component of a client's filename, without control or format
    characters (bidi overrides included), characters Windows forbids, leading dots and
    surrounding blanks; at most ``FILENAME_MAX`` characters with the extension kept.
    Nothing usable left: ``file.<default_extension>``."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(
        " " if ch in _BLANKS or ch.isspace() else ch
        for ch in text
        if ch not in _FORBIDDEN and (ch in _BLANKS or unicodedata.category(ch)[0] != "C")
    )
    text = " ".join(text.split()).strip(". ")
    stem, dot, extension = text.rpartition(".")
    if not dot or len(extension) > EXTENSION_MAX or not stem:
        stem, extension = text, ""
    if stem.lower() in _WINDOWS_RESERVED:
        stem = ""
    if not stem:
        stem = FALLBACK_STEM
        extension = extension or (default_extension or "")
    suffix = f".{extension}" if extension else ""
    stem = stem[: FILENAME_MAX - len(suffix)].rstrip(". ") or FALLBACK_STEM
    return stem + suffix


def ascii_fallback(filename: str) -> str:
    """An ASCII-only rendering for old clients (accents dropped, quotes replaced)."""
    decomposed = unicodedata.normalize("NFKD", filename)
    text = "".join("_" if ch in '"\\' else ch for ch in decomposed if " " <= ch <= "~").strip()
    return text or "download"


def content_disposition(filename: str) -> str:
    """``attachment`` with the name twice: a plain ASCII fallback and the exact UTF-8 name
    (RFC 6266 / RFC 5987), so the browser saves instead of rendering."""
    return (
        f'attachment; filename="{ascii_fallback(filename)}"; '
        f"filename*=UTF-8''{quote(filename, safe='')}"
    )
