"""Tiny but well-formed files of every type uploads accept, and a few impostors."""

from __future__ import annotations

import struct
import zlib


def png(width: int = 1, height: int = 1) -> bytes:
    """A real PNG: signature, IHDR, one IDAT of grey pixels, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    pixels = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


# SOI, a JFIF APP0 segment, EOI.
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
# A 1x1 GIF89a.
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
# A 1x1 lossless WebP (RIFF container, VP8L chunk).
WEBP = (
    b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88"
    b"\xfe\x07\x00"
)
PDF = (
    b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
    b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n"
    b"trailer <</Root 1 0 R>>\n%%EOF\n"
)
PNG = png()
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>\n"

# (bytes, the type they are, a filename to send)
ALLOWED: dict[str, tuple[bytes, str]] = {
    "image/jpeg": (JPEG, "photo.jpg"),
    "image/png": (PNG, "pixel.png"),
    "image/gif": (GIF, "anim.gif"),
    "image/webp": (WEBP, "pic.webp"),
    "application/pdf": (PDF, "report.pdf"),
}


def padded_png(size: int) -> bytes:
    """A PNG followed by padding up to exactly ``size`` bytes (still recognised as PNG)."""
    return PNG + b"\x00" * (size - len(PNG))
