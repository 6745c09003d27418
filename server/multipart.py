"""Multipart (upload) requests parsed with our limits, while the body streams in.

Starlette's parser, which Strawberry reaches through ``request.form()`` with its defaults,
allows 1,000 files of any size per request (file parts are spooled: memory up to 1 MB,
then a temporary file) and 1 MB per non-file field. Here the same parser counts the bytes
of each file part as they arrive and stops at ``UPLOAD_MAX_BYTES`` + 1 with
413 PAYLOAD_TOO_LARGE, allows ``UPLOAD_MAX_FILES`` file parts (400 BAD_USER_INPUT beyond),
and caps the ``operations``/``map`` fields at the JSON body limit. Each stored file is
checked again where it is stored (``services.files``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass

from cross_web import FormData
from cross_web.request._starlette import StarletteRequestAdapter
from starlette.datastructures import FormData as StarletteFormData
from starlette.datastructures import Headers
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from server.settings import Settings
from services.errors import BadUserInput, PayloadTooLarge

# `operations`, `map` and nothing else is read; a few spare fields for lenient clients.
MAX_FIELDS = 10


@dataclass(frozen=True, slots=True)
class UploadLimits:
    max_file_bytes: int
    max_files: int
    max_field_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadLimits:
        return cls(
            max_file_bytes=settings.upload_max_bytes,
            max_files=settings.upload_max_files,
            max_field_bytes=settings.max_json_body_bytes,
        )


class LimitedMultiPartParser(MultiPartParser):
    """Starlette's parser, refusing a file part as soon as it grows over the limit."""

    def __init__(
        self,
        headers: Headers,
        stream: AsyncGenerator[bytes, None],
        *,
        limits: UploadLimits,
    ) -> None:
        super().__init__(
            headers,
            stream,
            max_files=limits.max_files,
            max_fields=MAX_FIELDS,
            max_part_size=limits.max_field_bytes,
        )
        self.max_file_bytes = limits.max_file_bytes
        self._file_bytes = 0

    def on_part_begin(self) -> None:
        super().on_part_begin()
        self._file_bytes = 0

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current_part.file is not None:
            self._file_bytes += end - start
            if self._file_bytes > self.max_file_bytes:
                raise PayloadTooLarge(
                    f"A file may be at most {self.max_file_bytes / 1_048_576:g} MB",
                    part=self._current_part.field_name,
                )
        super().on_part_data(data, start, end)


async def parse_upload_form(request: Request, limits: UploadLimits) -> StarletteFormData:
    async with aclosing(request.stream()) as stream:
        parser = LimitedMultiPartParser(request.headers, stream, limits=limits)
        try:
            return await parser.parse()
        except MultiPartException as exc:
            if exc.message.startswith("Part exceeded"):
                raise PayloadTooLarge(f"Multipart field too large: {exc.message}") from exc
            raise BadUserInput(f"Invalid multipart request: {exc.message}") from exc


def upload_request_adapter(limits: UploadLimits) -> type[StarletteRequestAdapter]:
    """Strawberry's Starlette request adapter, parsing multipart bodies with ``limits``."""

    class UploadRequestAdapter(StarletteRequestAdapter):
        def __init__(self, request: Request) -> None:
            super().__init__(request)
            self.starlette_request = request

        async def get_form_data(self) -> FormData:
            form = await parse_upload_form(self.starlette_request, limits)
            return FormData(files=form, form=form)

    return UploadRequestAdapter
