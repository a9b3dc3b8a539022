"""JSON Schemas of the published records, generated from the pydantic models."""

from __future__ import annotations

from pathlib import Path

import orjson

from pipeline.models import SCHEMA_VERSION, DeadLetter, EnrichedEvent

SCHEMAS: dict[str, type[EnrichedEvent] | type[DeadLetter]] = {
    f"enriched-event.v{SCHEMA_VERSION}.json": EnrichedEvent,
    f"deadletter.v{SCHEMA_VERSION}.json": DeadLetter,
}


def render(model: type[EnrichedEvent] | type[DeadLetter]) -> bytes:
    """The schema of ``model`` as stable, indented JSON."""
    schema = model.model_json_schema(mode="serialization")
    return orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def write_schemas(out_dir: Path) -> list[Path]:
    """Write every schema into ``out_dir``; return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in SCHEMAS.items():
        path = out_dir / name
        path.write_bytes(render(model))
        written.append(path)
    return written
