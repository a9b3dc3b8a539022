"""Reading articles from files, directories and standard input into raw records, for
``mediamon push`` and ``mediamon enrich``: a JSON array or a JSON-lines file holds one article
per element or line; any other file (JSON object, text, Markdown, HTML) is one article. Nothing
read is dropped: an empty array is one record (which the worker dead-letters)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson

from pipeline.models import RawRecord

ARTICLE_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson", ".txt", ".md", ".html", ".htm"})
_JSON_LINES = frozenset({".jsonl", ".ndjson"})


def read_sources(paths: Iterable[str]) -> Iterator[RawRecord]:
    """The raw records of every path in order; ``-`` reads standard input. A directory yields
    its article files (by suffix), recursively, in name order."""
    for name in paths:
        if name == "-":
            yield from split_records(sys.stdin.buffer.read(), origin="<stdin>")
            continue
        path = Path(name)
        if not path.exists():
            raise FileNotFoundError(f"no such file or directory: {name}")
        files = (
            sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in ARTICLE_SUFFIXES)
            if path.is_dir()
            else [path]
        )
        for file in files:
            yield from split_records(file.read_bytes(), origin=str(file))


def chunks(records: Iterable[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    """Consecutive lists of at most ``size`` records."""
    chunk: list[RawRecord] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def split_records(data: bytes, origin: str) -> Iterator[RawRecord]:
    """Split one file's bytes into article records. Unparseable JSON stays one record, so
    that the worker dead-letters it with its reason rather than the reader hiding it."""
    suffix = Path(origin).suffix.lower()
    stripped = data.strip()
    if suffix in _JSON_LINES or (origin == "<stdin>" and _is_json_lines(stripped)):
        for line in stripped.splitlines():
            if line.strip():
                yield RawRecord(value=line.strip(), origin=origin)
        return
    if stripped.startswith(b"["):
        try:
            items = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            items = None
        if isinstance(items, list) and items:  # an empty array stays one record: no article
            for item in items:
                yield RawRecord(value=orjson.dumps(item), origin=origin)
            return
    yield RawRecord(value=data, origin=origin)


def _is_json_lines(data: bytes) -> bool:
    """Several lines, each a JSON object."""
    lines = [line for line in data.splitlines() if line.strip()]
    if len(lines) < 2:
        return False
    try:
        return all(isinstance(orjson.loads(line), dict) for line in lines)
    except orjson.JSONDecodeError:
        return False
