"""Folding: a name's lookup key, a mention's slug and an article text's case-blind form."""

from __future__ import annotations

from pipeline.text.folding import fold


def test_a_name_folds_without_accents_case_the_or_a_possessive() -> None:
    assert fold("The  Élysée Palace\u2019s") == "elysee palace"
    assert fold("A Coruña") == "a coruna"  # only 'the' goes from a name's lookup key
    assert fold("  United\tStates ") == "united states"


def test_name_key_ignores_case_accents_articles_and_possessives() -> None:
    assert fold("The White House", "slug") == fold("white house", "slug") == "white-house"
    assert fold("Macron's", "slug") == fold("Macron", "slug")
    assert fold("Zürich", "slug") == fold("Zurich", "slug")
    assert fold("An Post", "slug") == "post"
    assert fold("...", "slug") == ""


def test_an_article_text_keeps_its_accents_and_words() -> None:
    assert fold("The  Café's\n MENU", "text") == "the café's menu"
    assert fold("Cafe\u0301", "text") == fold("Café", "text")  # NFC
