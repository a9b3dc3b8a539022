"""Sentence spans for the topic stages: ends of sentences, not of abbreviations."""

from __future__ import annotations

from pipeline.text.sentences import Sentences, split


def texts(text: str) -> list[str]:
    return [text[start:end] for start, end in split(text)]


def test_sentences_end_at_stops_and_line_breaks() -> None:
    text = 'He left!  "Why?" she asked. Then rain fell\nA new paragraph. 2015 was dry.'
    assert texts(text) == [
        "He left!",
        '"Why?" she asked.',
        "Then rain fell",
        "A new paragraph.",
        "2015 was dry.",
    ]


def test_abbreviations_and_initials_do_not_end_a_sentence() -> None:
    text = "Gen. Smith met U.S. Navy staff in Sept. 2015 with J. Doe. Prices rose 3.5 percent."
    assert texts(text) == [
        "Gen. Smith met U.S. Navy staff in Sept. 2015 with J. Doe.",
        "Prices rose 3.5 percent.",
    ]


def test_an_offset_finds_its_sentence() -> None:
    text = "One two. Three four.  Five."
    sentences = Sentences.of(text)
    assert len(sentences) == 3
    assert [sentences.index(text.index(w)) for w in ("two", "Three", "Five")] == [0, 1, 2]
    assert sentences.index(text.index("  Five")) == 1  # between two sentences: the one before
