"""The scoring of ``bench/eval_quotes.py``: speaker accuracy as issue #18 defines it, and the
fixed held-out half of a split. Texts written for these tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ROOT, load_script


@pytest.fixture(scope="module")
def evaluation() -> Any:
    return load_script(ROOT / "bench" / "eval_quotes.py")


def span(body: str, text: str) -> tuple[int, int]:
    start = body.index(text)
    return start, start + len(text)


BODY = (
    "Republican nominee Ada Lim spoke. Mr. Lim said so, a spokeswoman for Ada Lim said, "
    "and he said it too."
)


def gold(evaluation: Any, source: str) -> Any:
    return evaluation.Gold([(0, 5)], [span(BODY, source)], "said")


def pred(evaluation: Any, name: str | None, *mentions: tuple[int, int]) -> Any:
    return evaluation.Pred([(0, 5)], name, frozenset(mentions), None, True)


def test_the_name_matches_the_head_of_the_gold_source(evaluation: Any) -> None:
    right = evaluation.speaker_right
    lim = pred(evaluation, "Ada Lim")
    assert right(BODY, gold(evaluation, "Republican nominee Ada Lim"), lim)
    assert right(BODY, gold(evaluation, "Mr. Lim"), lim)  # a title and the surname
    # the person named inside the source is not its head
    assert not right(BODY, gold(evaluation, "a spokeswoman for Ada Lim"), lim)
    # the exact reading wants the whole source
    assert not right(BODY, gold(evaluation, "Mr. Lim"), lim, exact=True)


def test_a_pronoun_source_is_right_only_as_a_mention_of_the_speaker(evaluation: Any) -> None:
    start = BODY.index("he said")
    he = evaluation.Gold([(0, 5)], [(start, start + 2)], "said")
    at_he = (start, start + 2)
    assert evaluation.speaker_right(BODY, he, pred(evaluation, "Ada Lim", at_he))
    assert not evaluation.speaker_right(BODY, he, pred(evaluation, "Ada Lim"))
    assert not evaluation.speaker_right(BODY, he, pred(evaluation, None, at_he))


def test_the_held_out_half_is_about_half_of_the_articles(evaluation: Any) -> None:
    held = [i for i in range(400) if evaluation.in_holdout(f"article_{i}")]
    assert 150 < len(held) < 250
