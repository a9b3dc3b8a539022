"""Duplicate detection: exact copies (same canonical URL or content hash) and near copies.

Near duplicates are syndicated copies of a story: another headline, a few reworded or added
sentences, an added "This story was first published by ..." line. They are found with MinHash
over word shingles of the body and LSH banding, in pure Python (hashlib/struct only; the
fingerprints are in :mod:`pipeline.stages.normalise.minhash`):

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
import logging
import struct
from collections import OrderedDict
from collections.abc import MutableMapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from pipeline.stages.normalise.minhash import (
    SIG_FORMAT,
    estimate_similarity,
    lsh_keys,
    rows_for,
    signature,
)

__all__ = ["Duplicate", "DuplicateIndex", "DuplicateKind"]

BUCKET_CAP: Final = 16
"""Most articles remembered per LSH bucket (the earliest are kept)."""
MAX_CANDIDATES: Final = 32
"""Most candidates whose full signature is compared per check."""
SWEEP_PER_CHECK: Final = 2
"""Expired articles forgotten (oldest first) on every check."""
MAX_EVICT_PER_CHECK: Final = 16
"""Most articles a single check forgets to honour ``max_entries`` (after the cap is lowered)."""

log = logging.getLogger(__name__)


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


@dataclass(frozen=True, slots=True)
class _Record:
    """What the index remembers of one article; its journal value is :meth:`to_json`."""

    id: str
    seen_at: float
    url: str | None
    hash: str
    sig: bytes | None
    """The packed signature (None for a body too short, or an exact copy)."""
    rows: int
    answer: Duplicate | None

    @property
    def root(self) -> str:
        """The first copy of this article's group."""
        return self.id if self.answer is None else self.answer.of

    def signature(self) -> tuple[int, ...]:
        assert self.sig is not None
        return struct.unpack(SIG_FORMAT, self.sig)

    def band_keys(self) -> list[int]:
        return [] if self.sig is None else lsh_keys(self.signature(), self.rows)

    def to_json(self) -> dict[str, Any]:
        answer = self.answer
        return {
            "t": self.seen_at,
            "u": self.url,
            "h": self.hash,
            "s": None if self.sig is None else base64.b64encode(self.sig).decode("ascii"),
            "r": self.rows,
            "d": None if answer is None else [answer.of, answer.kind.value, answer.similarity],
        }

    @classmethod
    def from_json(cls, article_id: str, value: Any) -> _Record:
        """The record of a journal value; raises ValueError (or TypeError) when malformed."""
        if not isinstance(value, dict):
            raise TypeError(f"a record must be an object, got {type(value).__name__}")
        sig = value["s"]
        packed = None if sig is None else base64.b64decode(sig, validate=True)
        if packed is not None and len(packed) != struct.calcsize(SIG_FORMAT):
            raise ValueError(f"a signature must be {struct.calcsize(SIG_FORMAT)} bytes")
        answer = value["d"]
        url = value["u"]
        return cls(
            id=article_id,
            seen_at=float(value["t"]),
            url=None if url is None else str(url),
            hash=str(value["h"]),
            sig=packed,
            rows=int(value["r"]),
            answer=None
            if answer is None
            else Duplicate(str(answer[0]), DuplicateKind(answer[1]), float(answer[2])),
        )


class DuplicateIndex:
    """Remembers fingerprints of articles seen; answers which earlier article a new one duplicates.

    The first copy of a group is the canonical one: every later copy (also a copy of a copy)
    gets ``Duplicate(of=<first copy's id>)``. Checking an ``article_id`` again returns the
    answer recorded the first time (None for an original), so reprocessing is idempotent; a
    new body under a known id (an updated article at the same URL) keeps that answer too.
    The first copy is the first one *checked*: the index keeps no order by ``seen_at``.

    The index lives in memory: one record per article (seen time, canonical URL, content
    hash, signature, answer), pointers from each URL and content hash to the first article
    that had it, and the LSH buckets. Its durable form is ``journal``, any
    ``MutableMapping[str, Any]`` (a dict offline; in the stream a Faust global table backed by
    a compacted changelog topic): one JSON value per article under ``a:<article_id>``, written
    once when the article is recorded and deleted when it is forgotten, never updated. The
    index is built from the journal's content when it is created, and follows the records
    written elsewhere through :meth:`observe`: another worker's, the changelog recovered at
    start, this index's own coming back (recognised and ignored). Keys without the ``a:``
    prefix are not the index's and are left alone.

    Bounded state. An article whose ``seen_at`` is more than ``window_s`` before the article
    being checked is ignored, and forgotten when a check touches it. Articles are kept in
    arrival order; each check forgets from the oldest end the articles beyond ``max_entries``
    (at most :data:`MAX_EVICT_PER_CHECK`) and up to :data:`SWEEP_PER_CHECK` expired ones; the
    worker also calls :meth:`evict` on a timer to sweep expired articles in bulk. Forgetting an
    article removes it from the pointers and buckets and deletes its journal value.
    """

    def __init__(
        self,
        journal: MutableMapping[str, Any] | None = None,
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
        self._journal: MutableMapping[str, Any] = {} if journal is None else journal
        self.threshold = threshold
        self.window_s = float(window_s)
        self.max_entries = max_entries
        self._rows = rows_for(threshold)
        self._records: OrderedDict[str, _Record] = OrderedDict()  # arrival order
        self._urls: dict[str, str] = {}
        self._hashes: dict[str, str] = {}
        self._buckets: dict[int, list[str]] = {}
        for key, value in list(self._journal.items()):
            self.observe(key, value)

    def __len__(self) -> int:
        """Articles remembered."""
        return len(self._records)

    def check(
        self,
        *,
        article_id: str,
        canonical_url: str | None,
        content_hash: str,
        body: str,
        seen_at: float,
    ) -> Duplicate | None:
        """None for a first copy, else the Duplicate it is a copy of; the article is recorded
        (one journal write) unless it was already."""
        known = self._records.get(article_id)
        if known is not None:
            if not self._expired(known.seen_at, seen_at):
                return known.answer
            self._forget(known)  # a sighting outside the window: start afresh

        found: Duplicate | None = None
        url_owner = self._owner(self._urls, canonical_url or None, article_id, seen_at)
        if url_owner is not None:
            found = Duplicate(url_owner, DuplicateKind.URL, 1.0)
        hash_owner = self._owner(self._hashes, content_hash, article_id, seen_at)
        if found is None and hash_owner is not None:
            found = Duplicate(hash_owner, DuplicateKind.CONTENT, 1.0)

        # An exact copy's signature equals its original's: no need to compute or index it.
        sig = signature(body) if found is None or found.kind is DuplicateKind.URL else None
        if sig is not None and found is None:
            found = self._nearest(sig, article_id, seen_at)
        record = _Record(
            id=article_id,
            seen_at=seen_at,
            url=canonical_url or None,
            hash=content_hash,
            sig=None if sig is None else struct.pack(SIG_FORMAT, *sig),
            rows=self._rows,
            answer=found,
        )
        self._remember(record)
        self._journal["a:" + article_id] = record.to_json()
        self._sweep(seen_at, SWEEP_PER_CHECK, MAX_EVICT_PER_CHECK)
        return found

    def observe(self, key: str, value: Any) -> None:
        """Take in a journal record written elsewhere (``value`` None: deleted there). One of
        this index's own, seen again, changes nothing; a malformed one is logged and skipped."""
        if not isinstance(key, str) or not key.startswith("a:"):
            return
        article_id = key[2:]
        known = self._records.get(article_id)
        if value is None:
            if known is not None:
                self._forget(known, delete=False)
            return
        try:
            record = _Record.from_json(article_id, value)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            log.warning("skipping a malformed duplicate-index record %r: %r", key, exc)
            return
        if known is not None:
            if known.seen_at == record.seen_at:
                return
            self._forget(known, delete=False)
        self._remember(record)

    def evict(self, now: float, *, budget: int = 10_000) -> int:
        """Forget articles seen more than ``window_s`` before ``now`` (oldest first).

        Walks the articles in arrival order and stops at the first one still inside the
        window or after ``budget`` articles; also honours ``max_entries``. Returns how many
        articles were forgotten.
        """
        return self._sweep(now, budget, budget)

    # -- internals -------------------------------------------------------------------------

    def _expired(self, then: float, now: float) -> bool:
        return now - then > self.window_s

    def _owner(
        self, pointers: dict[str, str], key: str | None, article_id: str, now: float
    ) -> str | None:
        """The group's first copy for a live URL/hash pointer to another article."""
        if key is None:
            return None
        owner = pointers.get(key)
        if owner is None or owner == article_id:
            return None
        record = self._records[owner]
        if self._expired(record.seen_at, now):
            self._forget(record)
            return None
        root = record.root
        return None if root == article_id else root  # a first copy seen again after eviction

    def _nearest(self, sig: tuple[int, ...], article_id: str, now: float) -> Duplicate | None:
        hits: dict[str, int] = {}
        for key in lsh_keys(sig, self._rows):
            for member in self._buckets.get(key, ()):
                if member != article_id:
                    hits[member] = hits.get(member, 0) + 1
        if not hits:
            return None
        ranked = sorted(hits, key=lambda c: -hits[c])[:MAX_CANDIDATES]  # stable: earliest first
        best: Duplicate | None = None
        for candidate in ranked:
            record = self._records[candidate]
            if self._expired(record.seen_at, now):
                self._forget(record)
                continue
            root = record.root
            if root == article_id or record.sig is None:
                continue
            similarity = estimate_similarity(sig, record.signature())
            if similarity >= self.threshold and (best is None or similarity > best.similarity):
                best = Duplicate(root, DuplicateKind.NEAR, similarity)
        return best

    def _remember(self, record: _Record) -> None:
        """Index a record: the newest in arrival order, the owner of its URL and hash when
        they have none, a member of its buckets while they have room."""
        self._records[record.id] = record
        for pointers, pointer in ((self._urls, record.url), (self._hashes, record.hash)):
            if pointer is not None and pointers.get(pointer) is None:
                pointers[pointer] = record.id
        for key in record.band_keys():
            members = self._buckets.setdefault(key, [])
            if len(members) < BUCKET_CAP:
                members.append(record.id)

    def _forget(self, record: _Record, *, delete: bool = True) -> None:
        """Drop a record from the index, and (``delete``) its value from the journal."""
        del self._records[record.id]
        for pointers, pointer in ((self._urls, record.url), (self._hashes, record.hash)):
            if pointer is not None and pointers.get(pointer) == record.id:
                del pointers[pointer]
        for key in record.band_keys():
            members = self._buckets.get(key)
            if members is not None and record.id in members:
                members.remove(record.id)
                if not members:
                    del self._buckets[key]
        if delete and "a:" + record.id in self._journal:
            del self._journal["a:" + record.id]

    def _sweep(self, now: float, expired_budget: int, cap_budget: int) -> int:
        """Forget the oldest articles: those beyond max_entries (at most ``cap_budget``), then
        expired ones (at most ``expired_budget``). Returns how many were forgotten."""
        over_cap = 0 if self.max_entries is None else len(self._records) - self.max_entries
        over_cap = min(over_cap, cap_budget)
        forgotten = 0
        while self._records:
            oldest = next(iter(self._records.values()))
            if over_cap > 0:
                over_cap -= 1
            elif expired_budget > 0 and self._expired(oldest.seen_at, now):
                expired_budget -= 1
            else:
                break
            self._forget(oldest)
            forgotten += 1
        return forgotten
