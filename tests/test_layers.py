"""The layer rule: stages <- enrich <- stream. No module under the stages (nor the text
helpers, resources and rules they use) imports a Kafka client or the stream, and the enricher
does not import the stream either."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"
KAFKA = ("faust", "aiokafka", "kafka", "mode", "confluent_kafka")
UPPER = ("pipeline.stream", "pipeline.transport", "pipeline.cli", "pipeline.demo")


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _offending(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        name
        for name in imports(path)
        if any(name == f or name.startswith(f"{f}.") for f in forbidden)
    )


PURE = sorted(
    p
    for folder in ("stages", "text", "resources", "rules")
    for p in (PACKAGE / folder).rglob("*.py")
)


def test_the_pure_layers_hold_modules() -> None:
    assert len(PURE) > 20


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_stage_imports_kafka_or_the_stream(path: Path) -> None:
    assert _offending(path, KAFKA + UPPER + ("pipeline.enrich",)) == []


def test_the_enricher_does_not_import_the_stream() -> None:
    assert _offending(PACKAGE / "enrich.py", KAFKA + UPPER) == []


def test_the_check_catches_a_kafka_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("import faust\nfrom aiokafka.structs import TopicPartition\n")
    assert _offending(module, KAFKA) == ["aiokafka.structs", "faust"]
