"""Reading CoNLL-2003 files (``token POS chunk NER`` per line, IOB2 tags, ``-DOCSTART-`` between
documents) as plain texts with character-offset entity spans, and exact-span scoring.

Shared by ``bench/eval_conll.py`` and ``scripts/train_ner.py``. Tokens are joined with single
spaces, so a document's text is what a reader would feed to a tokenizer; offsets point into it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

TYPES = ("PER", "ORG", "LOC", "MISC")

Span = tuple[int, int, str]


@dataclass(slots=True)
class Sentence:
    tokens: list[str]
    tags: list[str]


@dataclass(slots=True)
class Text:
    """A text built from whole sentences, with its gold entity spans."""

    text: str
    spans: list[Span] = field(default_factory=list)


def read_documents(path: Path) -> list[list[Sentence]]:
    """The documents of a CoNLL file, each a list of sentences."""
    documents: list[list[Sentence]] = []
    sentence = Sentence([], [])
    current: list[Sentence] = []
    with path.open(encoding="utf-8") as handle:
        for raw in handle:
            line = raw.strip()
            if line.startswith("-DOCSTART-"):
                if sentence.tokens:
                    current.append(sentence)
                    sentence = Sentence([], [])
                if current:
                    documents.append(current)
                current = []
                continue
            if not line:
                if sentence.tokens:
                    current.append(sentence)
                    sentence = Sentence([], [])
                continue
            parts = line.split()
            sentence.tokens.append(parts[0])
            sentence.tags.append(parts[-1])
    if sentence.tokens:
        current.append(sentence)
    if current:
        documents.append(current)
    return documents


_CYRILLIC = re.compile("[\u0400-\u04ff]")
_LATIN = re.compile("[A-Za-z]")


def repaired(token: str) -> str:
    """``token`` with the mis-encoding of the CoNLL-2003 German file undone: its umlauts were
    read as Windows-1251 ("Erzдhlung"), so a token mixing Latin and Cyrillic letters is
    re-read as Latin-1 ("Erzählung")."""
    if _CYRILLIC.search(token) and _LATIN.search(token):
        try:
            return token.encode("cp1251").decode("latin-1")
        except UnicodeError:
            return token
    return token


def read_conllu(path: Path) -> list[list[Sentence]]:
    """The sentences of an ``index token tag`` file (``ner_multilingual/``), each a document."""
    documents: list[list[Sentence]] = []
    sentence = Sentence([], [])
    with path.open(encoding="utf-8") as handle:
        for raw in handle:
            parts = raw.rstrip("\n").split("\t")
            if len(parts) < 3:
                if sentence.tokens:
                    documents.append([sentence])
                    sentence = Sentence([], [])
                continue
            if parts[1] == "-DOCSTART-":
                continue
            sentence.tokens.append(repaired(parts[1]))
            sentence.tags.append(parts[2])
    if sentence.tokens:
        documents.append([sentence])
    return documents


def read_any(path: Path) -> list[list[Sentence]]:
    """The documents of a CoNLL-2003 file, or of an ``index token tag`` file (``.conllu``)."""
    return read_conllu(path) if path.suffix == ".conllu" else read_documents(path)


def join(sentences: Iterable[Sentence]) -> Text:
    """One text of ``sentences`` (tokens joined with spaces) with its entity spans."""
    pieces: list[str] = []
    spans: list[Span] = []
    offset = 0
    for sentence in sentences:
        open_start: int | None = None
        open_type = ""
        last_end = offset
        for token, tag in zip(sentence.tokens, sentence.tags, strict=True):
            if pieces:
                offset += 1  # the joining space
            start, end = offset, offset + len(token)
            pieces.append(token)
            offset = end
            if open_start is not None and (
                tag == "O" or tag.startswith("B-") or tag[2:] != open_type
            ):
                spans.append((open_start, last_end, open_type))
                open_start = None
            if tag != "O" and open_start is None:
                open_start, open_type = start, tag[2:]
            last_end = end
        if open_start is not None:
            spans.append((open_start, last_end, open_type))
    return Text(" ".join(pieces), spans)


def chunks(documents: Iterable[list[Sentence]], sentences_per_chunk: int) -> Iterator[Text]:
    """Texts of at most ``sentences_per_chunk`` consecutive sentences, never across documents;
    ``0`` gives whole documents."""
    for document in documents:
        size = sentences_per_chunk or len(document)
        for i in range(0, len(document), size):
            yield join(document[i : i + size])


@dataclass(slots=True)
class Score:
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)

    def add(self, gold: Iterable[Span], predicted: Iterable[Span]) -> None:
        gold_set, pred_set = set(gold), set(predicted)
        for span in pred_set & gold_set:
            self.tp[span[2]] += 1
        for span in pred_set - gold_set:
            self.fp[span[2]] += 1
        for span in gold_set - pred_set:
            self.fn[span[2]] += 1

    def prf(self, label: str | None = None) -> tuple[float, float, float]:
        if label is None:
            tp, fp, fn = sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values())
        else:
            tp, fp, fn = self.tp[label], self.fp[label], self.fn[label]
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f

    def table(self, title: str) -> str:
        lines = [f"{title}", f"  {'type':<8}{'P':>8}{'R':>8}{'F1':>8}{'gold':>8}"]
        for label in (*TYPES, None):
            p, r, f = self.prf(label)
            gold = self.tp[label] + self.fn[label] if label else sum((self.tp + self.fn).values())
            lines.append(f"  {label or 'overall':<8}{p:8.3f}{r:8.3f}{f:8.3f}{gold:8d}")
        return "\n".join(lines)
