"""The multilingual encoder's file (``pipeline.resources.e5``): its tokenizer and its word
embeddings as the multilingual recogniser reads them."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.resources.e5 import E5File, PieceCutter, open_e5


@pytest.fixture(scope="module")
def e5() -> E5File:
    return open_e5()


def test_the_header_describes_multilingual_e5_small(e5: E5File) -> None:
    config = e5.config
    assert (config.hidden, config.layers, config.heads) == (384, 12, 12)
    assert 250_000 <= len(e5.pieces) <= config.vocab  # the table has a few unused rows more
    assert e5.pieces[e5.bos] == "<s>"
    assert e5.pieces[e5.eos] == "</s>"


def test_words_are_cut_into_pieces_that_spell_them(e5: E5File) -> None:
    cut = PieceCutter(e5)
    for word in ["Wladimir", "Putin", "Путин", "États-Unis", "习近平", "Baden-Württemberg"]:
        pieces = [e5.pieces[i] for i in cut(word)]
        assert "".join(pieces) == "\u2581" + e5.normalise(word)
        assert e5.unk not in cut(word)


def test_the_cut_is_the_best_scoring_one(e5: E5File) -> None:
    """The SentencePiece reading: "Wladimir" is "▁W" "ladi" "mir" (the engine's own cut),
    not the single characters, though they spell it too."""
    assert [e5.pieces[i] for i in PieceCutter(e5)("Wladimir")] == ["\u2581W", "ladi", "mir"]


def test_a_character_outside_the_vocabulary_is_the_unknown_piece(e5: E5File) -> None:
    assert [e5.pieces[i] for i in PieceCutter(e5)("\u200b")] == ["\u2581", "<unk>"]


def test_word_rows_are_the_dequantised_embedding_rows(e5: E5File) -> None:
    ids = np.array([[5, 1000], [e5.unk, 250_000]], dtype=np.int64)
    rows = e5.word_rows(ids)
    assert rows.shape == (2, 2, e5.config.hidden)
    assert rows.dtype == np.float32
    assert np.array_equal(rows[0, 1], e5.word_rows(np.array([1000]))[0])
    assert not np.array_equal(rows[0, 0], rows[0, 1])
    assert 0.01 < float(np.abs(rows).mean()) < 1.0  # scaled weights, not raw nibbles


def test_normalisation_maps_compatibility_characters(e5: E5File) -> None:
    assert e5.normalise("ＡＢＣ") == "ABC"
