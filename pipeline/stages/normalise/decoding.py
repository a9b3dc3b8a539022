"""The bytes of a raw message: binary content is rejected, text decoded (never guessed)."""

from __future__ import annotations

import re

from pipeline.models import Reason, Rejected

_BINARY_SIGNATURES: dict[bytes, str] = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"%PDF-": "PDF",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
    b"7z\xbc\xaf\x27\x1c": "7-Zip",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"\x7fELF": "ELF",
}
_CONTROL_BYTES = frozenset(range(32)) - frozenset(b"\t\n\v\f\r\x1b") | {0x7F}
_BINARY_SAMPLE_BYTES = 8192
_MAX_CONTROL_SHARE = 0.05
_CHARSET_RE = re.compile(
    rb"""<(?:meta[^>]*?charset|\?xml[^>]*?encoding)\s*=\s*["']?\s*([\w.:-]+)""", re.I
)


def reject_binary(data: bytes) -> None:
    for signature, kind in _BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise Rejected(Reason.BINARY, f"binary content: {kind} data")
    if b"\x00" in data:
        raise Rejected(Reason.BINARY, "binary content: NUL bytes (text must be UTF-8)")
    sample = data[:_BINARY_SAMPLE_BYTES]
    controls = sum(byte in _CONTROL_BYTES for byte in sample)
    if controls > _MAX_CONTROL_SHARE * len(sample):
        raise Rejected(
            Reason.BINARY, f"binary content: {controls} control bytes in the first {len(sample)}"
        )


def decode(data: bytes) -> str:
    """UTF-8 (BOM or not), else the charset that markup declares, else NOT_DECODABLE."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        utf8_error = f"not valid UTF-8 ({error.reason} at byte {error.start})"
    declared = _CHARSET_RE.search(data[:4096]) if data.lstrip().startswith(b"<") else None
    if declared is None:
        raise Rejected(Reason.NOT_DECODABLE, f"{utf8_error} and no charset declared")
    charset = declared.group(1).decode("ascii")
    try:
        return data.decode(charset).lstrip("\ufeff")
    except (LookupError, UnicodeError) as error:
        raise Rejected(
            Reason.NOT_DECODABLE, f"{utf8_error}, nor in its declared charset {charset!r}"
        ) from error
