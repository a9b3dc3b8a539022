"""MinHash fingerprints of bodies: words without boilerplate, shingles, signatures, LSH keys."""

from __future__ import annotations

import hashlib
import re
import struct
from typing import Final

SHINGLE_WORDS: Final = 2
"""Words per shingle."""
MIN_WORDS: Final = 30
"""Bodies with fewer fingerprint words than this only match exactly."""
_BIN_BITS: Final = 7
SIGNATURE_SIZE: Final = 1 << _BIN_BITS
"""MinHash positions per signature (bins of the one-permutation hash)."""
BANDS: Final = 16
"""LSH bands, i.e. buckets an indexed article is a member of."""


_EMPTY: Final = 1 << 32
_LOW32: Final = (1 << 32) - 1
SIG_FORMAT: Final = f"<{SIGNATURE_SIZE}I"
_PROBES_PER_BIN: Final = 64


_WORD = re.compile(r"\w+")
_SEGMENT = re.compile(r"(?<=[.!?])\s+|\n+")
_BOILERPLATE_MAX_WORDS: Final = 40
_BOILERPLATE = re.compile(
    r"\b(?:originally|first) (?:published|appeared|posted)\b"
    r"|\b(?:re)?published (?:here )?(?:with|by) (?:kind )?permission\b"
    r"|\breprinted\b|\bsubscribe\b|\bnewsletters?\b|\bsign up\b|\ball rights reserved\b"
    r"|\bcopyright\b|\u00a9|\bfollow us\b|\bclick here\b|\bread more\b|\bread the full\b"
    r"|\bcreative commons\b|\bcontributed to this (?:report|story|article)\b"
    r"|\b(?:this|the) (?:story|article|report) (?:was|is|has been|appeared|appears) "
    r"(?:originally |first |also )?(?:published|produced|written|posted|distributed)\b"
)
_GATES: Final = tuple(
    tuple(frozenset(option.split()) for option in alternative)
    for alternative in (
        ("originally first", "published appeared posted"),
        ("permission",), ("reprinted",), ("subscribe",), ("newsletter newsletters",),
        ("sign", "up"), ("rights", "reserved"), ("copyright",), ("follow", "us"),
        ("click", "here"), ("read", "more full"), ("creative", "commons"),
        ("contributed", "this"),
        (
            "this the",
            "story article report",
            "was is been appeared appears",
            "published produced written posted distributed",
        ),
    )
)  # fmt: skip
"""Words every match of _BOILERPLATE has: one of each set of some alternative (or a \u00a9)."""


def _probe_sequence(bin_: int) -> list[int]:
    digest = hashlib.blake2b(b"mediamon-dedup-probe:%d" % bin_, digest_size=_PROBES_PER_BIN)
    return [b % SIGNATURE_SIZE for b in digest.digest()]


_PROBES: Final = [_probe_sequence(i) for i in range(SIGNATURE_SIZE)]


def _gated(text: str, words: list[str]) -> bool:
    """Whether ``text`` (with these words) may hold boilerplate: a cheap necessary test."""
    if "\u00a9" in text:
        return True
    present = set(words)
    return any(all(not present.isdisjoint(w) for w in alt) for alt in _GATES)


def fingerprint_words(body: str) -> list[str]:
    """The lower-cased words of ``body`` that enter its fingerprint (boilerplate left out).

    Boilerplate is only left out when at least :data:`MIN_WORDS` words remain.
    """
    text = body.lower()
    words: list[str] = _WORD.findall(text)
    if len(words) < MIN_WORDS or not _gated(text, words):
        return words
    segments = _SEGMENT.split(text)
    kept = []
    for segment in segments:
        segment_words = _WORD.findall(segment)
        if (
            len(segment_words) > _BOILERPLATE_MAX_WORDS
            or not _gated(segment, segment_words)
            or _BOILERPLATE.search(segment) is None
        ):
            kept.append(segment)
    if len(kept) == len(segments):
        return words
    stripped: list[str] = _WORD.findall("\n".join(kept))
    return stripped if len(stripped) >= MIN_WORDS else words


def signature(body: str) -> tuple[int, ...] | None:
    """The MinHash signature of ``body``, or None when it has fewer than MIN_WORDS words."""
    words = fingerprint_words(body)
    if len(words) < MIN_WORDS:
        return None
    shingles = {
        " ".join(shingle)
        for shingle in zip(*(words[i:] for i in range(SHINGLE_WORDS)), strict=False)
    }
    sig = [_EMPTY] * SIGNATURE_SIZE
    blake2b = hashlib.blake2b
    from_bytes = int.from_bytes
    shift = 64 - _BIN_BITS
    for shingle in shingles:
        data = shingle.encode("utf-8", "surrogatepass")
        h = from_bytes(blake2b(data, digest_size=8).digest(), "little")
        bin_ = h >> shift
        value = h & _LOW32
        if value < sig[bin_]:
            sig[bin_] = value
    if _EMPTY in sig:  # optimal densification: an empty bin borrows from a pseudo-random one
        filled = tuple(sig)
        for i, value in enumerate(filled):
            if value != _EMPTY:
                continue
            for j in _PROBES[i]:
                if filled[j] != _EMPTY:
                    sig[i] = filled[j]
                    break
            else:  # all 64 probes empty (< 1e-6 per bin for a 30-word body): next filled bin
                for step in range(1, SIGNATURE_SIZE):
                    borrowed = filled[(i + step) % SIGNATURE_SIZE]
                    if borrowed != _EMPTY:
                        sig[i] = borrowed
                        break
    return tuple(sig)


def estimate_similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of the shingle sets behind two signatures."""
    return sum(x == y for x, y in zip(a, b, strict=True)) / SIGNATURE_SIZE


def rows_for(threshold: float) -> int:
    """Rows per band: the most for which a pair at ``threshold`` is a candidate >= 99.5%."""
    rows = 1
    for r in range(1, SIGNATURE_SIZE // BANDS + 1):
        if 1.0 - (1.0 - threshold**r) ** BANDS >= 0.995:
            rows = r
    return rows


def lsh_keys(sig: tuple[int, ...], rows: int) -> list[int]:
    """The LSH bucket keys of a signature: one 64-bit hash per band (band and rows included)."""
    keys = []
    for band in range(BANDS):
        chunk = struct.pack(f"<BB{rows}I", band, rows, *sig[band * rows : (band + 1) * rows])
        keys.append(int.from_bytes(hashlib.blake2b(chunk, digest_size=8).digest(), "little"))
    return keys
