"""The documentation (docs/, built by mkdocs with the hooks of docs/hooks.py) documents what
the code has: every setting, every metric and every command, and names nothing the code lacks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer.main

from pipeline.cli import app
from pipeline.metrics import Metrics
from pipeline.settings import Settings
from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def hooks() -> Any:
    return load_script(DOCS / "hooks.py")


@pytest.fixture(scope="module")
def pages(hooks: Any) -> dict[str, str]:
    """Every page of the site as the build renders it, the generated tables in place."""
    return {p.name: hooks.render(p.read_text()) for p in sorted(DOCS.glob("*.md"))}


def _commands(group: Any, prefix: str = "mediamon") -> list[str]:
    """The command line's commands and subcommands (``mediamon watch add``)."""
    names = []
    for name, command in group.commands.items():
        names.append(f"{prefix} {name}")
        if hasattr(command, "commands"):  # a group (typer's click, not necessarily ours)
            names += _commands(command, f"{prefix} {name}")
    return names


def test_every_setting_is_on_the_configuration_page(pages: dict[str, str]) -> None:
    page = pages["configuration.md"]
    missing = [n for n in Settings.model_fields if f"`MEDIAMON_{n.upper()}`" not in page]
    assert missing == []


def test_every_settings_field_has_a_description() -> None:
    assert [n for n, field in Settings.model_fields.items() if not field.description] == []


def test_every_mediamon_metric_is_documented(hooks: Any, pages: dict[str, str]) -> None:
    names = [hooks.metric_name(m) for m in vars(Metrics()).values() if hasattr(m, "_type")]
    assert "mediamon_alerts_total" in names
    assert [n for n in names if f"`{n}`" not in pages["metrics.md"]] == []


def test_the_generated_metrics_table_lists_label_values(pages: dict[str, str]) -> None:
    row = next(
        line for line in pages["metrics.md"].splitlines() if "`mediamon_duplicates_total`" in line
    )
    assert "`url`, `content`, `near`" in row


def test_every_command_is_documented(pages: dict[str, str]) -> None:
    commands = _commands(typer.main.get_command(app))
    assert "mediamon watch add" in commands
    text = "\n".join(pages.values())
    assert [c for c in commands if f"`{c}" not in text] == []


def test_the_docs_and_readme_name_only_settings_and_metrics_that_exist(
    hooks: Any, pages: dict[str, str]
) -> None:
    texts = {**pages, "README.md": (ROOT / "README.md").read_text()}
    assert {name: hooks.unknown_names(text) for name, text in texts.items()} == {
        name: [] for name in texts
    }
    assert hooks.unknown_names("`MEDIAMON_NO_SUCH` and `mediamon_no_such_total`") == [
        "MEDIAMON_NO_SUCH",
        "mediamon_no_such_total",
    ]


def test_every_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    assert [p.name for p in DOCS.glob("*.md") if f": {p.name}" not in nav] == []


def test_the_readme_links_to_files_that_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [link for link in links if "://" not in link]
    assert "docs/architecture.md" in local
    assert [link for link in local if not (ROOT / link).exists()] == []
    assert len(readme.splitlines()) <= 250
