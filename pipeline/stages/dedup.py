"""Duplicate detection: exact copies (same canonical URL or content hash) and near copies.

Near duplicates are syndicated copies of a story: another headline, a few reworded or added
sentences, an added "This story was first published by ..." line. They are found with MinHash
over word shingles of the body and LSH banding, in pure Python (hashlib/struct only):

* The body is lower-cased and split into words (``\\w+``); short sentences that look like
  syndication boilerplate ("first published by", "subscribe", "newsletter", "all rights
  reserved", ...) are left out of the fingerprint, so adding them does not lower similarity.
* Every run of :data:`SHINGLE_WORDS` consecutive words is a shingle; each shingle is hashed
  once (BLAKE2b, 64 bits) and the set is summarised by a one-permutation MinHash signature of
  :data:`SIGNATURE_SIZE` 32-bit minima (Li, Owen and Zhang 2012) with optimal densification
  for empty bins (Shrivastava 2017). The share of equal positions of two signatures estimates
  the Jaccard similarity of the two shingle sets (standard error about 0.035 at 0.8).
* :data:`BANDS` bands of ``r`` signature positions each are hashed to bucket keys; articles
  sharing a bucket are candidates, and a candidate is only a duplicate when the full
  signatures agree on at least ``threshold`` of their positions (so band collisions never
  produce a false positive on their own). ``r`` is chosen from the threshold so that a pair
  exactly at the threshold becomes a candidate with probability >= 0.995.

Bodies with fewer than :data:`MIN_WORDS` words get no signature: they only match exactly.

Why two-word shingles: a reworded sentence or an unrecognised footer costs fewer shingles the
shorter they are. On 1,079 BBC News articles, variants with two lightly reworded sentences, a
swapped sentence pair and an unrecognised footer kept a true Jaccard >= 0.8 in 92% of cases
with 2-word shingles but 75% with 3-word ones, while the most similar pair of genuinely
different stories stayed below 0.5 (``bench/eval_dedup.py`` measures the detector).
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from collections.abc import MutableMapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

__all__ = [
    "BANDS",
    "MIN_WORDS",
    "SHINGLE_WORDS",
    "SIGNATURE_SIZE",
    "Duplicate",
    "DuplicateIndex",
    "DuplicateKind",
    "estimate_similarity",
    "fingerprint_words",
    "signature",
]

SHINGLE_WORDS: Final = 2
"""Words per shingle."""
MIN_WORDS: Final = 30
"""Bodies with fewer fingerprint words than this only match exactly."""
_BIN_BITS: Final = 7
SIGNATURE_SIZE: Final = 1 << _BIN_BITS
"""MinHash positions per signature (bins of the one-permutation hash)."""
BANDS: Final = 16
"""LSH bands, i.e. bucket keys written per indexed article."""
BUCKET_CAP: Final = 16
"""Most articles remembered per LSH bucket (the earliest are kept)."""
MAX_CANDIDATES: Final = 32
"""Most candidates whose full signature is compared per check."""
SWEEP_PER_CHECK: Final = 2
"""Expired articles evicted from the tail of the arrival queue on every check."""
MAX_EVICT_PER_CHECK: Final = 16
"""Most articles a single check evicts to honour ``max_entries`` (after the cap is lowered)."""

_EMPTY: Final = 1 << 32
_LOW32: Final = (1 << 32) - 1
_SIG_FORMAT: Final = f"<{SIGNATURE_SIZE}I"
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


class DuplicateKind(StrEnum):
    """How a duplicate was recognised (bounded: usable as a metrics label)."""

    URL = "url"
    CONTENT = "content"
    NEAR = "near"


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The answer for a copy: the id of the first copy of its group, how, and how similar."""

    of: str
    kind: DuplicateKind
    similarity: float
    """1.0 for ``url`` and ``content``; the estimated Jaccard similarity for ``near``."""


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


def _encode(sig: tuple[int, ...]) -> str:
    return base64.b64encode(struct.pack(_SIG_FORMAT, *sig)).decode("ascii")


def _decode(text: str) -> tuple[int, ...]:
    return struct.unpack(_SIG_FORMAT, base64.b64decode(text))


def _rows_for(threshold: float) -> int:
    """Rows per band: the most for which a pair at ``threshold`` is a candidate >= 99.5%."""
    rows = 1
    for r in range(1, SIGNATURE_SIZE // BANDS + 1):
        if 1.0 - (1.0 - threshold**r) ** BANDS >= 0.995:
            rows = r
    return rows


def _band_keys(sig: tuple[int, ...], rows: int) -> list[str]:
    keys = []
    for band in range(BANDS):
        chunk = struct.pack(f"<{rows}I", *sig[band * rows : (band + 1) * rows])
        digest = hashlib.blake2b(chunk, digest_size=8).hexdigest()
        keys.append(f"b:{rows}:{band}:{digest}")
    return keys


class DuplicateIndex:
    """Remembers fingerprints of articles seen; answers which earlier article a new one duplicates.

    The first copy of a group is the canonical one: every later copy (also a copy of a copy)
    gets ``Duplicate(of=<first copy's id>)``. Checking an ``article_id`` again returns the
    answer recorded the first time (None for an original), so reprocessing is idempotent; a
    new body under a known id (an updated article at the same URL) keeps that answer too.
    The first copy is the first one *checked*: the index keeps no order by ``seen_at``.

    State lives in ``store``, any ``MutableMapping[str, Any]`` (a dict, or a Faust table,
    changelog-backed, so a restarted worker remembers). Only ``get``, ``[]``, ``[]=``,
    ``del``, ``in`` and ``len`` are used, never iteration; every value is JSON (lists, dicts
    with string keys, str, int, float, None) and is always re-assigned, never mutated in place.
    Keys:

    * ``a:<article_id>`` -> the article's record: ``{"t": seen_at, "u": url, "h": hash,
      "s": base64 signature or None, "r": rows per band, "d": [of, kind, similarity] or None,
      "q": queue position}``; written last, it marks the check as complete.
    * ``u:<canonical_url>``, ``h:<content_hash>`` -> ``[article_id, seen_at]`` of the first
      article with that URL / hash (a duplicate's id resolves to its group's first copy).
    * ``b:<rows>:<band>:<hash>`` -> ``[[article_id, seen_at], ...]``: an LSH bucket, at most
      :data:`BUCKET_CAP` articles, earliest first.
    * ``q`` -> ``[head, tail]`` and ``q:<n>`` -> article_id: the arrival queue (below).

    Bounded state. An entry whose ``seen_at`` is more than ``window_s`` before the article
    being checked is ignored and deleted when a check touches it. To bound the store without
    ever scanning it, every newly recorded article is appended to a FIFO queue of keys
    (``q:<n>``, with head and tail counters under ``q``); each check then evicts from the
    tail the articles beyond ``max_entries`` (so at most ``max_entries`` articles are
    remembered) and up to :data:`SWEEP_PER_CHECK` expired ones. Evicting an article deletes
    its record, the ``u:``/``h:`` pointers it owns and its bucket memberships: O(BANDS) work.
    The worker may also call :meth:`evict` (e.g. on a timer, or every N articles) to sweep
    expired articles in bulk when traffic is low. Per remembered article the store holds at
    most ``4 + BANDS`` keys (buckets are shared), about 1.5 kB in all.
    """

    def __init__(
        self,
        store: MutableMapping[str, Any],
        *,
        threshold: float = 0.8,
        window_s: float = 7 * 86400,
        max_entries: int | None = None,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
        if not window_s > 0:
            raise ValueError(f"window_s must be positive, got {window_s!r}")
        if max_entries is not None and max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries!r}")
        self._store = store
        self.threshold = threshold
        self.window_s = float(window_s)
        self.max_entries = max_entries
        self._rows = _rows_for(threshold)

    def __len__(self) -> int:
        """Articles remembered (queue length; may briefly count a few already forgotten)."""
        head, tail = self._queue()
        return head - tail

    def check(
        self,
        *,
        article_id: str,
        canonical_url: str | None,
        content_hash: str,
        body: str,
        seen_at: float,
    ) -> Duplicate | None:
        """None for a first copy (which is recorded), else the Duplicate it is a copy of."""
        store = self._store
        record = store.get("a:" + article_id)
        if record is not None:
            if not self._expired(record["t"], seen_at):
                return _answer(record)
            self._forget(article_id, record)  # a sighting outside the window: start afresh

        url_key = "u:" + canonical_url if canonical_url else None
        hash_key = "h:" + content_hash
        found: Duplicate | None = None
        url_owner = self._pointer(url_key, article_id, seen_at) if url_key else None
        if url_owner is not None:
            found = Duplicate(url_owner, DuplicateKind.URL, 1.0)
        hash_owner = self._pointer(hash_key, article_id, seen_at)
        if found is None and hash_owner is not None:
            found = Duplicate(hash_owner, DuplicateKind.CONTENT, 1.0)

        # An exact copy's signature equals its original's: no need to compute or index it.
        sig = signature(body) if found is None or found.kind is DuplicateKind.URL else None
        buckets: dict[str, list[list[Any]]] = {}
        dirty: set[str] = set()
        if sig is not None:
            for key in _band_keys(sig, self._rows):
                entries = store.get(key)
                if entries is None:
                    buckets[key] = []
                    continue
                live = [e for e in entries if not self._expired(e[1], seen_at)]
                if len(live) != len(entries):
                    dirty.add(key)
                buckets[key] = live
            if found is None:
                found = self._nearest(sig, buckets, article_id, seen_at)

        # Record: pointers and buckets first, the queue, then the record (commit marker).
        if url_key is not None and url_owner is None:
            store[url_key] = [article_id, seen_at]
        if hash_owner is None:
            store[hash_key] = [article_id, seen_at]
        for key, live in buckets.items():
            if len(live) < BUCKET_CAP and all(e[0] != article_id for e in live):
                live = [*live, [article_id, seen_at]]
                dirty.add(key)
            if key in dirty:
                if live:
                    store[key] = live
                elif key in store:
                    del store[key]
        head, tail = self._queue()
        store[f"q:{head}"] = article_id
        store["q"] = [head + 1, tail]
        store["a:" + article_id] = {
            "t": seen_at,
            "u": canonical_url or None,
            "h": content_hash,
            "s": None if sig is None else _encode(sig),
            "r": self._rows,
            "d": None if found is None else [found.of, found.kind.value, found.similarity],
            "q": head,
        }
        self._sweep(seen_at, SWEEP_PER_CHECK, MAX_EVICT_PER_CHECK)
        return found

    def evict(self, now: float, *, budget: int = 10_000) -> int:
        """Forget articles seen more than ``window_s`` before ``now`` (oldest first).

        Walks the arrival queue from its tail and stops at the first article still inside the
        window or after ``budget`` articles; also honours ``max_entries``. Returns how many
        articles were forgotten.
        """
        return self._sweep(now, budget, budget)

    # -- internals -------------------------------------------------------------------------

    def _expired(self, then: float, now: float) -> bool:
        return now - then > self.window_s

    def _queue(self) -> tuple[int, int]:
        value = self._store.get("q")
        if value is None:
            return 0, 0
        return int(value[0]), int(value[1])

    def _pointer(self, key: str, article_id: str, seen_at: float) -> str | None:
        """The group's first copy for a live ``u:``/``h:`` pointer of another article."""
        value = self._store.get(key)
        if value is None:
            return None
        owner, then = value[0], value[1]
        if self._expired(then, seen_at):
            del self._store[key]
            return None
        if owner == article_id:  # left by an earlier, interrupted check of this article
            return None
        record = self._store.get("a:" + owner)
        if record is None:  # the owner was forgotten or its check never completed
            return None
        root = _root(owner, record)
        return None if root == article_id else root  # a first copy seen again after eviction

    def _nearest(
        self,
        sig: tuple[int, ...],
        buckets: dict[str, list[list[Any]]],
        article_id: str,
        seen_at: float,
    ) -> Duplicate | None:
        hits: dict[str, int] = {}
        for entries in buckets.values():
            for entry in entries:
                if entry[0] != article_id:
                    hits[entry[0]] = hits.get(entry[0], 0) + 1
        if not hits:
            return None
        ranked = sorted(hits, key=lambda c: -hits[c])[:MAX_CANDIDATES]  # stable: earliest first
        best: Duplicate | None = None
        for candidate in ranked:
            record = self._store.get("a:" + candidate)
            if record is None or record["s"] is None or self._expired(record["t"], seen_at):
                continue
            root = _root(candidate, record)
            if root == article_id:
                continue
            similarity = estimate_similarity(sig, _decode(record["s"]))
            if similarity >= self.threshold and (best is None or similarity > best.similarity):
                best = Duplicate(root, DuplicateKind.NEAR, similarity)
        return best

    def _sweep(self, now: float, expired_budget: int, cap_budget: int) -> int:
        """Evict from the queue tail: articles beyond max_entries (at most ``cap_budget``),
        then expired ones (at most ``expired_budget``). Returns how many were forgotten."""
        store = self._store
        head, tail = self._queue()
        over_cap = 0 if self.max_entries is None else head - tail - self.max_entries
        over_cap = min(over_cap, cap_budget)
        start, forgotten, steps = tail, 0, expired_budget + max(over_cap, 0) + SWEEP_PER_CHECK
        while tail < head and steps > 0:
            steps -= 1
            slot = f"q:{tail}"
            article_id = store.get(slot)
            record = None if article_id is None else store.get("a:" + article_id)
            if article_id is not None and record is not None and record["q"] == tail:
                if over_cap > 0:
                    over_cap -= 1
                elif expired_budget > 0 and self._expired(record["t"], now):
                    expired_budget -= 1
                else:
                    break
                self._forget(article_id, record)
                forgotten += 1
            # else: a stale slot (article forgotten, or recorded again later): just drop it
            if slot in store:
                del store[slot]
            tail += 1
        if tail != start:
            store["q"] = [head, tail]
        return forgotten

    def _forget(self, article_id: str, record: dict[str, Any]) -> None:
        """Delete an article's record, the pointers it owns and its bucket memberships."""
        store = self._store
        pointers = ["h:" + record["h"]] + (["u:" + record["u"]] if record["u"] else [])
        for key in pointers:
            value = store.get(key)
            if value is not None and value[0] == article_id:
                del store[key]
        if record["s"] is not None:
            for key in _band_keys(_decode(record["s"]), int(record["r"])):
                entries = store.get(key)
                if entries is None:
                    continue
                remaining = [e for e in entries if e[0] != article_id]
                if not remaining:
                    del store[key]
                elif len(remaining) != len(entries):
                    store[key] = remaining
        if "a:" + article_id in store:
            del store["a:" + article_id]


def _root(article_id: str, record: dict[str, Any]) -> str:
    answer = record["d"]
    return article_id if answer is None else str(answer[0])


def _answer(record: dict[str, Any]) -> Duplicate | None:
    answer = record["d"]
    if answer is None:
        return None
    return Duplicate(str(answer[0]), DuplicateKind(answer[1]), float(answer[2]))
