"""The article readers of ``scripts/stance_teacher.py``: Reuters-21578 JSON lines and CoNLL-2003
files become (title, body) articles as the teacher reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import ROOT, load_script


@pytest.fixture(scope="module")
def teacher() -> Any:
    return load_script(ROOT / "scripts" / "stance_teacher.py")


WRAPPED = (
    "Harbour officials in Port Ellery said the ferry to\nSkelling Island would run twice a"
    " day from June,\nafter the council approved a new timetable.\n    Ruth Okonjo, who chairs"
    " the transport\ncommittee, said the change would help schools, shops and the\nclinic on"
    " the island, which has waited two years for a\nsecond crossing.\n Reuter\n"
)


def test_reuters_stories_join_wrapped_lines_and_keep_paragraphs(
    teacher: Any, tmp_path: Path
) -> None:
    path = tmp_path / "stories.jsonl"
    rows = [
        {"title": "FERRY  TIMETABLE\nCHANGED", "body": WRAPPED},
        {"title": "SHORT", "body": "Prices were steady.\n Reuter\n"},  # under 40 words
        {"title": "NO BODY"},
    ]
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in rows))
    ((title, body),) = teacher.articles(path, 0)
    assert title == "FERRY TIMETABLE CHANGED"
    first, second = body.split("\n\n")
    assert first.startswith("Harbour officials in Port Ellery said the ferry to Skelling Island")
    assert first.endswith("approved a new timetable.")
    assert second.startswith("Ruth Okonjo, who chairs the transport committee, said")
    assert second.endswith("waited two years for a second crossing.")  # "Reuter" dropped


def test_conll_documents_become_articles_with_attached_punctuation(
    teacher: Any, tmp_path: Path
) -> None:
    title = "FERRY - Port Ellery adds a second crossing ."
    sentence = (
        "Ruth Okonjo ( council ) said : \" The island has n't had a second ferry , and it 's"
        ' needed . "'
    )
    lines = ["-DOCSTART- -X- -X- O", ""]
    for text in (title, *[sentence] * 5):
        lines += [f"{token} NN O O" for token in text.split()] + [""]
    lines += ["-DOCSTART- -X- -X- O", "", "Too NN O O", "short NN O O", ""]
    path = tmp_path / "train.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    ((head, body),) = teacher.articles(path, 0)  # the 2-token document is left out
    assert head == "FERRY - Port Ellery adds a second crossing."
    expected = (
        "Ruth Okonjo (council) said: \"The island hasn't had a second ferry, and it's needed.\""
    )
    assert body == " ".join([expected] * 5)


def test_a_limit_keeps_the_first_articles(teacher: Any, tmp_path: Path) -> None:
    path = tmp_path / "stories.jsonl"
    rows = [{"title": f"STORY {n}", "body": WRAPPED} for n in range(3)]
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in rows))
    assert [t for t, _ in teacher.articles(path, 2)] == ["STORY 0", "STORY 1"]
