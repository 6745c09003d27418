"""Multipart (upload) requests parsed with our limits, while the body streams in.

Starlette's parser, which Strawberry reaches through ``request.form()`` with its defaults,
allows 1,000 files of any size per request (file parts are spooled: memory up to 1 MB,
then a temporary file) and 1 MB per non-file field. Here the same parser counts the bytes
of each file part as they arrive and stops at ``UPLOAD_MAX_BYTES`` + 1 with
413 PAYLOAD_TOO_LARGE, allows ``UPLOAD_MAX_FILES`` file parts (400 BAD_USER_INPUT beyond),
and caps the ``operations``/``map`` fields at the JSON body limit. Each stored file is
checked again where it is stored (``services.files``).

``operations_with_files`` then puts the file parts where the ``map`` field says, refusing
with 400 BAD_USER_INPUT what Strawberry's ``replace_placeholders_with_files`` let through as
a 500: ``operations``/``map`` that are not JSON text, a ``map`` that is not an object of
lists of paths, a path that leads nowhere, a mapped part that is not a file.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from cross_web import FormData
from cross_web.request._starlette import StarletteRequestAdapter
from starlette.datastructures import FormData as StarletteFormData
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from core.settings import Settings
from server.graphql_request import kind_of
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


def _json_field(
    form: Mapping[str, Any], name: str, decode_json: Callable[[str], object], default: str
) -> object:
    value = form.get(name, default)
    if not isinstance(value, str):
        raise BadUserInput(f"The multipart `{name}` field must be JSON text, not {kind_of(value)}")
    try:
        return decode_json(value)
    except ValueError as exc:
        raise BadUserInput(f"The multipart `{name}` field is not valid JSON") from exc


def _slot(target: object, key: str) -> int | str:
    """Where ``key`` points inside ``target`` (a list index or an object key)."""
    if isinstance(target, list) and key.isdecimal() and int(key) < len(target):
        return int(key)
    if isinstance(target, dict):
        return key
    raise LookupError(key)


def _place(operations: object, path: str, file: UploadFile) -> None:
    *parents, last = path.split(".")
    target: Any = operations
    try:
        for key in parents:
            target = target[_slot(target, key)]
        target[_slot(target, last)] = file
    except LookupError as exc:
        raise BadUserInput(
            f"The multipart `map` path '{path}' does not lead to a value in `operations`"
        ) from exc


def operations_with_files(form: Mapping[str, Any], decode_json: Callable[[str], object]) -> object:
    """The ``operations`` field with each file part put at the paths ``map`` gives it."""
    if "operations" not in form:
        raise BadUserInput("A multipart request needs an `operations` field")
    operations = _json_field(form, "operations", decode_json, "")
    files_map = _json_field(form, "map", decode_json, "{}")
    if not isinstance(files_map, dict):
        raise BadUserInput(
            "The multipart `map` must be an object of file field names to lists of paths, "
            f"not {kind_of(files_map)}"
        )
    operations = copy.deepcopy(operations)
    for name, paths in files_map.items():
        file = form.get(name)
        if not isinstance(file, UploadFile):
            raise BadUserInput(f"The multipart `map` names '{name}', which is not a file part")
        if not isinstance(paths, list) or not all(isinstance(path, str) for path in paths):
            raise BadUserInput(
                f"The multipart `map` entry '{name}' must be a list of paths "
                '(like "variables.file")'
            )
        for path in paths:
            _place(operations, path, file)
    return operations
