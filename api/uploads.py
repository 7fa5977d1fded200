"""Request bodies: read with a size limit, by content type (JSON, CSV or a multipart file)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from fastapi import Request

from api.errors import ApiError

__all__ = ["read_body", "read_upload"]


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body; 413 past ``limit`` bytes (checked on the header and while reading)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise ApiError(400, "BadRequest", "the Content-Length header is not a number") from None
        if size > limit:
            raise ApiError(413, "PayloadTooLarge",
                           f"the body has {size} bytes; the limit is {limit}: split the upload")
    chunks = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise ApiError(413, "PayloadTooLarge",
                           f"the body is larger than the limit of {limit} bytes: split the upload")
        chunks.append(chunk)
    return b"".join(chunks)


def _kind_of(content_type: str, filename: str | None = None) -> str | None:
    media = content_type.split(";", maxsplit=1)[0].strip().lower()
    if media in ("application/json", "application/ld+json") or media.endswith("+json"):
        return "json"
    if media in ("text/csv", "application/csv"):
        return "csv"
    if filename:
        lowered = filename.lower()
        if lowered.endswith(".json"):
            return "json"
        if lowered.endswith(".csv"):
            return "csv"
    return None


async def read_upload(request: Request, limit: int, accepted: tuple[str, ...]) -> tuple[str, bytes]:
    """(kind, bytes) of the body: JSON or CSV as the body itself, or the ``file`` part of a
    ``multipart/form-data`` form. 415 for any other content type."""
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    if media == "multipart/form-data":
        body = await read_body(request, limit)
        from starlette.datastructures import UploadFile
        from starlette.formparsers import MultiPartException, MultiPartParser

        async def stream() -> AsyncGenerator[bytes, None]:
            yield body

        try:
            form = await MultiPartParser(request.headers, stream(), max_files=1,
                                         max_fields=10).parse()
        except MultiPartException as exc:
            raise ApiError(400, "BadRequest", f"malformed multipart form: {exc.message}"
                           ) from None
        try:
            item = form.get("file")
            if not isinstance(item, UploadFile):
                raise ApiError(400, "BadRequest", "the form has no file field named 'file'")
            data = await item.read()
        finally:
            await form.close()
        kind = _kind_of(item.content_type or "", item.filename)
        if kind is None or kind not in accepted:
            raise ApiError(415, "UnsupportedMediaType",
                           f"the uploaded file must be {' or '.join(accepted)} (by its type or "
                           f"its name's ending); got {item.filename!r}")
        return kind, data
    kind = _kind_of(content_type)
    if kind is None or kind not in accepted:
        wanted = ", ".join({"json": "application/json", "csv": "text/csv"}[k] for k in accepted)
        raise ApiError(415, "UnsupportedMediaType",
                       f"unsupported content type {media or '(none)'!r}; send {wanted}, or "
                       "multipart/form-data with a file field named 'file'")
    return kind, await read_body(request, limit)
