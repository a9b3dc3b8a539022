"""The stance model's input: sentences with marked targets as token windows, padded in batches."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from tokenizers import Tokenizer

T = TypeVar("T")

MAX_TOKENS = 96
"""Longest model input in tokens; longer sentences are cut into windows around the mentions."""
BATCH = 32
"""Most windows per inference call."""
PADDING = 1.25
"""Longest window of an inference call, as a multiple of its shortest (see :func:`chunks`)."""
START_MARK = "[unused0]"
END_MARK = "[unused1]"


@dataclass(frozen=True, slots=True)
class Window:
    """One model input: token ids with marked targets; ``positions[k]`` is the index of the
    opening marker of the caller's span number ``targets[k]``."""

    ids: list[int]
    positions: list[int]
    targets: list[int]


class Encoder:
    """Turns a text and the character spans of its targets into :class:`Window` inputs: the
    WordPiece tokens of the text with each target between ``[unused0]`` and ``[unused1]``,
    ``[CLS]`` first and ``[SEP]`` last, at most ``max_tokens`` long. A text too long for one
    window is cut into several, each centred on the first target not yet placed; every target
    falls in exactly one window. Overlapping spans after the first are not scored."""

    def __init__(self, tokenizer: Tokenizer, max_tokens: int = MAX_TOKENS) -> None:
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.cls = _token_id(tokenizer, "[CLS]")
        self.sep = _token_id(tokenizer, "[SEP]")
        self.start = _token_id(tokenizer, START_MARK)
        self.end = _token_id(tokenizer, END_MARK)

    @classmethod
    def from_file(cls, path: Path, max_tokens: int = MAX_TOKENS) -> Encoder:
        return cls(Tokenizer.from_file(str(path)), max_tokens)

    def windows(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> list[list[Window]]:
        """The windows of each text; ``spans[i]`` are the targets of ``texts[i]``."""
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [self._windows(e.ids, e.offsets, s) for e, s in zip(encodings, spans, strict=True)]

    def _windows(
        self, ids: list[int], offsets: list[tuple[int, int]], spans: Sequence[tuple[int, int]]
    ) -> list[Window]:
        # token range [first, last] of each span; spans with no token or overlapping are left out
        ranges: list[tuple[int, int, int]] = []
        for k, (a, b) in sorted(enumerate(spans), key=lambda s: s[1]):
            first = next((i for i, (_, e) in enumerate(offsets) if e > a), None)
            if first is None or offsets[first][0] >= b:
                continue
            last = first
            while last + 1 < len(offsets) and offsets[last + 1][0] < b:
                last += 1
            if ranges and first <= ranges[-1][1]:
                continue
            ranges.append((first, last, k))
        out: list[Window] = []
        budget = self.max_tokens - 2
        while ranges:
            if len(ids) + 2 * len(ranges) <= budget:
                lo, hi = 0, len(ids)
            else:
                width = max(budget // 2, budget - 2 * len(ranges))
                lo = max(0, min(ranges[0][0] - width // 3, len(ids) - width))
                hi = lo + width
            inside = [r for r in ranges if lo <= r[0] and r[1] < hi]
            inside = inside[: (budget - (hi - lo)) // 2] or [ranges[0]]
            if not (lo <= inside[0][0] and inside[0][1] < hi):  # a target longer than a window
                lo, hi = inside[0][0], min(inside[0][1] + 1, inside[0][0] + budget - 2)
            out.append(self._window(ids, lo, hi, inside))
            placed = {r[2] for r in inside}
            ranges = [r for r in ranges if r[2] not in placed]
        return out

    def _window(
        self, ids: list[int], lo: int, hi: int, targets: list[tuple[int, int, int]]
    ) -> Window:
        tokens = [self.cls]
        positions = []
        marks: dict[int, int] = {}
        for first, last, _ in targets:
            marks[first] = marks.get(first, 0) | 1
            marks[min(last, hi - 1)] = marks.get(min(last, hi - 1), 0) | 2
        for i in range(lo, hi):
            if marks.get(i, 0) & 1:
                positions.append(len(tokens))
                tokens.append(self.start)
            tokens.append(ids[i])
            if marks.get(i, 0) & 2:
                tokens.append(self.end)
        tokens.append(self.sep)
        return Window(tokens, positions, [k for _, _, k in targets])


def _token_id(tokenizer: Tokenizer, token: str) -> int:
    found = tokenizer.token_to_id(token)
    if found is None:
        raise ValueError(f"the tokenizer has no {token} token")
    return found


def pad(windows: Sequence[Window]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids and attention mask of a batch of windows, right-padded with 0."""
    width = max(len(w.ids) for w in windows)
    ids = np.zeros((len(windows), width), dtype=np.int64)
    mask = np.zeros((len(windows), width), dtype=np.int64)
    for row, window in enumerate(windows):
        ids[row, : len(window.ids)] = window.ids
        mask[row, : len(window.ids)] = 1
    return ids, mask


def chunks(items: Sequence[T], key: Callable[[T], int], size: int = BATCH) -> Iterator[list[T]]:
    """``items`` (sorted by ``key``, their length in tokens) cut into inference calls of at
    most ``size``, each padded to at most ``PADDING`` times its shortest item. One article's
    sentences run from a few tokens to ``MAX_TOKENS``: in one call, most of the work would go
    to padding, which made a lone article cost twice as much per sentence as a full batch."""
    chunk: list[T] = []
    for item in items:
        if chunk and (len(chunk) == size or key(item) > PADDING * key(chunk[0])):
            yield chunk
            chunk = []
        chunk.append(item)
    if chunk:
        yield chunk
