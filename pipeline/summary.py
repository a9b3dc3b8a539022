"""A readable, one-panel summary of an enriched event or a dead-letter record (for the demo)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.text import Text

_MAX_ENTITIES = 10


def summarise(record: dict[str, Any]) -> Panel:
    """Title, source, date, language, entities, quotes, stances, topics and places."""
    if record.get("record_type") == "deadletter":
        where = f"{record.get('topic')}[{record.get('partition')}]@{record.get('offset')}"
        return Panel(
            Text(f"{record.get('reason')}: {record.get('message')}"),
            title=f"dead letter {where}",
            border_style="red",
        )
    source = record.get("source") or {}
    lines = [
        _field(
            "source", " · ".join(filter(None, (source.get("name"), source.get("domain")))) or "-"
        ),
        _field("published", record.get("published_at") or "-"),
        _field("authors", ", ".join(record.get("authors") or []) or "-"),
        _field("language", record.get("language") or "?"),
        _field("words", str(record.get("word_count"))),
    ]
    if record.get("duplicate_of"):
        lines.append(_field("duplicate of", record["duplicate_of"], style="yellow"))
    if not record.get("enriched"):
        lines.append(_field("not enriched", record.get("not_enriched_reason") or "", "yellow"))
    elif record.get("language") != "en" and record.get("enriched_with"):
        ran = ", ".join(f"{k} ({v})" for k, v in record["enriched_with"].items())
        lines.append(_field("enriched with", ran))
    entities = record.get("entities") or []
    if entities:
        shown = ", ".join(
            f"{e['name']} ({e['type']}, {len(e['mentions'])}x)" for e in entities[:_MAX_ENTITIES]
        )
        more = len(entities) - _MAX_ENTITIES
        lines.append(_field("entities", shown + (f" +{more} more" if more > 0 else "")))
    for quote in record.get("quotes") or []:
        lines.append(_field("quote", f"{quote.get('speaker') or '?'}: “{quote['text']}”"))
    model = record.get("stance_model")
    for stance in record.get("stances") or []:
        sign = {-1: "negative", 0: "neutral", 1: "positive"}[stance["polarity"]]
        lines.append(
            _field("stance", f"{stance['holder']} → {stance['target']}: {sign} ({model} model)")
        )
    if record.get("topics"):
        lines.append(_field("topics", ", ".join(t["label"] for t in record["topics"])))
    if record.get("places"):
        lines.append(_field("places", ", ".join(record["places"])))
    return Panel(
        Group(*lines),
        title=record.get("title") or "(untitled)",
        subtitle=record.get("id"),
        border_style="green" if record.get("enriched") else "yellow",
    )


def _field(name: str, value: str, style: str = "") -> Text:
    text = Text(f"{name:>12}  ", style="bold")
    text.append(value, style=style)
    return text
