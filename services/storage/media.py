"""Media types recognised from their first bytes (magic numbers), never from a filename or
from what a client claims.

Only the types uploads accept are recognised; everything else is None. Each check needs at
most ``SNIFF_BYTES`` bytes from the start of the content.
"""

from __future__ import annotations

SNIFF_BYTES = 16

JPEG = "image/jpeg"
PNG = "image/png"
GIF = "image/gif"
WEBP = "image/webp"
PDF = "application/pdf"

EXTENSIONS: dict[str, str] = {JPEG: "jpg", PNG: "png", GIF: "gif", WEBP: "webp", PDF: "pdf"}
ALLOWED_TYPES: frozenset[str] = frozenset(EXTENSIONS)

# What clients sometimes declare for the same type.
_ALIASES = {"image/jpg": JPEG, "image/pjpeg": JPEG, "application/x-pdf": PDF}


def sniff(head: bytes) -> str | None:
    """The media type of content starting with ``head``, or None if it is none we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if len(head) >= 12 and head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    return None


def normalize_media_type(declared: str) -> str:
    """``Image/JPG; charset=x`` → ``image/jpeg``: lower case, no parameters, aliases folded."""
    essence = declared.split(";", 1)[0].strip().lower()
    return _ALIASES.get(essence, essence)
