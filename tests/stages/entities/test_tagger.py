"""The transformer recogniser's encoding (case classes, windows, word pieces), its span reading,
and the shipped model through the run-time :class:`Tagger`."""

from __future__ import annotations

import numpy as np
from tokenizers import Tokenizer

from pipeline import DATA_DIR
from pipeline.stages.entities.recognise import MODEL_DIR
from pipeline.stages.entities.tagger import (
    CASE_LOWER,
    CASE_MIXED,
    CASE_NONE,
    CASE_TITLE,
    CASE_UNKNOWN,
    CASE_UPPER,
    LABELS,
    MAX_TOKENS,
    Encoding,
    Tagger,
    case_class,
    case_classes,
    decode,
    encode,
    may_hold_names,
    sentences,
    spans,
    windows,
)


def encoding() -> Encoding:
    return Encoding(Tokenizer.from_file(str(DATA_DIR / "tokenizers" / "minilm.json")))


def test_case_classes_of_words() -> None:
    assert case_class("Putin") == CASE_TITLE
    assert case_class("A") == CASE_TITLE
    assert case_class("NATO") == CASE_UPPER
    assert case_class("said") == CASE_LOWER
    assert case_class("iPhone") == CASE_MIXED
    assert case_class("1996") == CASE_NONE
    assert case_class(",") == CASE_NONE


def test_a_headline_in_capitals_or_title_case_hides_its_casing() -> None:
    words = [
        "STOCKS",
        "FALL",
        "IN",
        "TOKYO",
        ".",
        "Prices",
        "fell",
        "in",
        "Tokyo",
        "on",
        "Monday",
        ".",
    ]
    cases = case_classes(words)
    assert cases[:5] == [CASE_UNKNOWN] * 5
    assert cases[5:] == [case_class(w) for w in words[5:]]
    title = ["Harbor", "Town", "Votes", "Against", "New", "Bridge", "Plan"]
    assert set(case_classes(title)) == {CASE_UNKNOWN}
    sentence = ["The", "mayor", "of", "Harbor", "Town", "voted", "against", "the", "plan"]
    assert CASE_UNKNOWN not in case_classes(sentence)


def test_a_line_start_ends_a_sentence_without_punctuation() -> None:
    words = ["MARKETS", "REPORT", "TODAY", "the", "council", "met", "in", "Lyon"]
    assert case_classes(words, frozenset([3]))[3:] == [case_class(w) for w in words[3:]]
    assert CASE_UNKNOWN not in case_classes(words, frozenset([3]))[3:]


def test_windows_respect_the_budget_and_cut_after_a_sentence_end() -> None:
    words = (["word"] * 30 + ["."]) * 10
    pieces = [2] * len(words)
    spans = list(windows(pieces, words))
    assert [i for s in spans for i in s] == list(range(len(words)))
    for span in spans:
        assert sum(pieces[i] for i in span) <= MAX_TOKENS - 2
    assert all(words[s[-1]] == "." for s in spans[:-1])


def test_encode_marks_the_first_piece_of_each_word() -> None:
    words = ["Gazprombank", "said", "nothing", "."]
    (window,) = encode(encoding(), words, case_classes(words))
    assert len(window.ids) == len(window.cases) == len(window.first_piece_of)
    assert [w for w in window.first_piece_of if w >= 0] == [0, 1, 2, 3]
    assert window.first_piece_of[0] == window.first_piece_of[-1] == -1
    first = window.first_piece_of.index(0)
    assert window.cases[first] == CASE_TITLE
    assert len(window.ids) > len(words) + 2  # the company's name is several pieces


def test_decode_reads_bio_with_repair() -> None:
    index = {label: i for i, label in enumerate(LABELS)}
    tags = ["B-PER", "I-PER", "O", "I-ORG", "I-ORG", "B-LOC", "B-LOC", "I-MISC"]
    spans = decode([index[t] for t in tags])
    assert spans == [(0, 2, "PER"), (3, 5, "ORG"), (5, 6, "LOC"), (6, 7, "LOC"), (7, 8, "MISC")]


def test_a_span_is_read_whole_and_typed_by_its_summed_probabilities() -> None:
    index = {label: i for i, label in enumerate(LABELS)}
    rows = {
        "B-ORG": {"B-ORG": 0.6, "B-PER": 0.4},
        "I-ORG": {"I-ORG": 0.55, "I-PER": 0.45},
        "I-PER": {"I-PER": 0.9, "I-ORG": 0.1},
        "O": {"O": 1.0},
        "B-LOC": {"B-LOC": 0.7, "B-MISC": 0.3},
    }
    tags = ["B-ORG", "I-ORG", "I-PER", "O", "B-LOC"]
    scores = np.zeros((len(tags), len(LABELS)))
    for word, tag in enumerate(tags):
        for label, p in rows[tag].items():
            scores[word, index[label]] = p
    assert spans(scores) == [(0, 3, "PER"), (4, 5, "LOC")]
    assert decode([index[t] for t in tags]) == [(0, 2, "ORG"), (2, 3, "PER"), (4, 5, "LOC")]


def test_the_shipped_model_tags_names() -> None:
    tagger = Tagger(MODEL_DIR)
    words = [
        "Priya",
        "Raman",
        ",",
        "the",
        "chief",
        "executive",
        "of",
        "Nordhavn",
        "Securities",
        ",",
        "spoke",
        "in",
        "Oslo",
        ".",
    ]
    (scores,) = tagger.tag([words], [frozenset()])
    assert scores.shape == (len(words), len(LABELS))
    assert np.allclose(scores.sum(axis=1), 1.0, atol=1e-4)
    found = {(" ".join(words[a:b]), kind) for a, b, kind in spans(scores)}
    assert ("Priya Raman", "PER") in found
    assert ("Nordhavn Securities", "ORG") in found
    assert ("Oslo", "LOC") in found


def test_a_long_text_keeps_every_word() -> None:
    words = ["Ottawa", "said", "."] * 200
    windows_ = encode(encoding(), words, case_classes(words))
    assert len(windows_) > 1
    assert sorted(w for e in windows_ for w in e.first_piece_of if w >= 0) == list(range(600))
    unk = encoding().unk
    assert all(unk not in e.ids for e in windows_)


def split(text: str) -> list[str]:
    return text.split()


def test_a_sentence_with_no_capital_past_a_function_word_cannot_name_anything() -> None:
    assert not may_hold_names(split("The talks ended late in the evening ."))
    assert not may_hold_names(split('" it was a fair deal , " he said .'))
    assert may_hold_names(split("Merkel said the talks would go on ."))  # no function word
    assert may_hold_names(split("May said the talks would go on ."))  # a name, also a word
    assert may_hold_names(split("The union said Maersk had agreed ."))
    assert may_hold_names(split("US officials said the talks would go on ."))


def test_sentences_end_at_the_given_ends_and_starts() -> None:
    words = split('He said " no . " Then it rained .')
    assert [(r.start, r.stop) for r in sentences(words)] == [(0, 3), (3, 5), (5, 6), (6, 10)]
    stops = frozenset(".")
    assert [(r.start, r.stop) for r in sentences(words, frozenset([6]), stops)] == [
        (0, 5),
        (5, 6),
        (6, 10),
    ]


def test_a_sentence_that_cannot_name_anything_is_not_read_and_tagged_outside() -> None:
    tagger = Tagger(MODEL_DIR)
    quiet = split("the talks went on for hours and ended without a deal .")
    named = split("Priya Raman spoke in Oslo .")
    (scores,) = tagger.tag([quiet + named], [frozenset()])
    assert (scores[: len(quiet), 0] == 1.0).all()  # exactly the outside row: never read
    found = {(" ".join((quiet + named)[a:b]), kind) for a, b, kind in spans(scores)}
    assert ("Priya Raman", "PER") in found
