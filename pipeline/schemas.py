"""JSON Schemas of the published records, generated from the pydantic models."""

from __future__ import annotations

from pathlib import Path

import orjson
from pydantic import BaseModel

from pipeline.models import (
    SCHEMA_VERSION,
    Alert,
    DeadLetter,
    EnrichedEvent,
    Taxonomy,
    Trend,
    WatchRule,
)

SCHEMAS: dict[str, type[BaseModel]] = {
    f"enriched-event.v{SCHEMA_VERSION}.json": EnrichedEvent,
    f"deadletter.v{SCHEMA_VERSION}.json": DeadLetter,
    f"trend.v{SCHEMA_VERSION}.json": Trend,
    f"alert.v{SCHEMA_VERSION}.json": Alert,
    f"watch-rule.v{SCHEMA_VERSION}.json": WatchRule,
    f"taxonomy.v{SCHEMA_VERSION}.json": Taxonomy,
}


def render(model: type[BaseModel]) -> bytes:
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
