"""Incremental delivery over HTTP (``@defer``/``@stream``): which format the client reads
(``accept``), the payloads in that format (``payloads``), and the ``multipart/mixed`` body
(``multipart``). The schema side (refusing it where it cannot be delivered) is
``schema/incremental.py``."""
