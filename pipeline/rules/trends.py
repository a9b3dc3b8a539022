"""Trends: how often each entity and each topic tag is named per tumbling time window, and how
unusual the current window is against the recent past (the burst score). Pure functions over
enriched events and per-term counts; the Faust side (``pipeline/stream/trends.py``) keeps the
counts in a table and publishes the results.

What is counted: every English, enriched, non-duplicate article counts once for each distinct
entity id (canonical: knowledge-base ids, or ``local:`` ids made from the name) at least
``min_salience`` salient in it (a name mentioned once in passing is not what a story is
about), for each distinct topic id it carries and for each distinct location id (a place it
names), whatever the number of mentions. Its time is
its ingest time (the raw message's Kafka timestamp, ``ingested_at``), or with ``published``
its publication time when known; a time in the future counts as now.

Windows: ``[start, start + size)`` with ``start`` a multiple of ``size`` seconds (UTC epoch).
A window is kept until its end is more than ``expires`` seconds in the past; a count for a
window that is no longer kept is *late*: ignored, and reported.

Burst score of a term in window ``w``, with ``x`` its count in ``w``, ``mu`` the mean of its
counts in the ``K`` windows before ``w`` (a window without the term counts 0) and ``f`` the
elapsed share of ``w`` (1 once it has ended)::

    expected = mu * f
    burst    = (x - expected) / sqrt(expected + 1)

It is a Poisson z-score (under a steady rate the count's variance equals its mean) whose
variance carries one pseudo-count, so that a term never seen before scores ``x`` rather than
infinity, and scaling the baseline by ``f`` lets a story rising in the first minutes of a
window stand out before the window ends.
"""

from __future__ import annotations

import heapq
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol, TypeVar

from pipeline.models import Trend, TrendKind

TimeBasis = Literal["ingested", "published"]
PRIOR = 1.0
"""Pseudo-count added to the expected count in the burst score's variance."""
MAX_LABEL_CHARS = 200


class NotCounted(Exception):
    """An enriched-topic record that adds nothing to the counts, with the reason."""

    def __init__(self, reason: Literal["duplicate", "not_enriched", "invalid"]) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Windows:
    """Tumbling windows of ``size`` seconds; ``baseline`` earlier windows form a term's usual
    rate; a window is kept until its end is ``expires`` seconds old (the settings check that
    this is at least ``size * baseline``, so that the baseline's windows are all kept)."""

    size: int
    baseline: int
    expires: int

    def start(self, t: float) -> int:
        """The start of the window holding time ``t``."""
        return int(t // self.size) * self.size

    def late(self, start: int, now: float) -> bool:
        """Whether the window starting at ``start`` is no longer kept at ``now``."""
        return start + self.size <= now - self.expires

    def elapsed(self, start: int, now: float) -> float:
        """The share of the window starting at ``start`` that has passed at ``now``, 0..1."""
        return min(max((now - start) / self.size, 0.0), 1.0)


@dataclass(frozen=True, slots=True)
class Term:
    """Something counted: an entity or a topic tag, with the label to show."""

    kind: TrendKind
    id: str
    label: str

    @property
    def key(self) -> str:
        """The term's table and partitioning key, ``kind:id``."""
        return f"{self.kind.value}:{self.id}"


def parse_key(key: str) -> tuple[TrendKind, str]:
    """``(kind, id)`` of a key made by :attr:`Term.key`."""
    kind, _, term_id = key.partition(":")
    return TrendKind(kind), term_id


@dataclass(frozen=True, slots=True)
class Sighting:
    """What one article adds: its distinct terms, at its time (epoch seconds)."""

    time: float
    terms: tuple[Term, ...]


def sighting(event: Any, basis: TimeBasis, min_salience: float, now: float) -> Sighting:
    """The terms and the time of a decoded enriched-topic record (entities at least
    ``min_salience`` salient); raises ``NotCounted`` for a duplicate, an unenriched article, or
    anything that is not an enriched event."""
    if not isinstance(event, dict) or event.get("record_type") != "enriched":
        raise NotCounted("invalid")
    if event.get("duplicate_of") is not None:
        raise NotCounted("duplicate")
    if event.get("enriched") is not True:
        raise NotCounted("not_enriched")
    when = _time(event.get("published_at")) if basis == "published" else None
    when = when if when is not None else _time(event.get("ingested_at"))
    if when is None:
        raise NotCounted("invalid")
    terms: dict[str, Term] = {}
    for item in _items(event, "entities"):
        salience = item.get("salience")
        if not isinstance(salience, int | float):
            raise NotCounted("invalid")
        if salience >= min_salience:
            term = _term(TrendKind.ENTITY, item, "name")
            terms.setdefault(term.key, term)
    for item in _items(event, "topics"):
        term = _term(TrendKind.TAG, item, "label")
        terms.setdefault(term.key, term)
    for item in _items(event, "locations"):  # absent from events of earlier versions
        term = _term(TrendKind.LOCATION, item, "name")
        terms.setdefault(term.key, term)
    return Sighting(min(when, now), tuple(terms.values()))


def _items(event: dict[str, Any], field: str) -> list[dict[str, Any]]:
    items = event.get(field, [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise NotCounted("invalid")
    return items


def _term(kind: TrendKind, item: dict[str, Any], label_field: str) -> Term:
    term_id, label = item.get("id"), item.get(label_field)
    if not isinstance(term_id, str) or not term_id or not isinstance(label, str):
        raise NotCounted("invalid")
    return Term(kind, term_id, label[:MAX_LABEL_CHARS] or term_id)


def _time(value: object) -> float | None:
    """Epoch seconds of an ISO 8601 time with a zone, else None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None


def partition_of(key: str, partitions: int) -> int:
    """The partition that counts ``key``: the same on every worker and every run."""
    return zlib.crc32(key.encode()) % partitions


Increment = tuple[str, str, int, int]
"""``(key, label, window start, count)``: counts to add to one term's window."""


def increments(
    sightings: Iterable[Sighting], windows: Windows, partitions: int
) -> dict[int, list[Increment]]:
    """The counts a batch of articles adds, summed per term and window and grouped by the
    partition that counts each term (one message per partition carries them)."""
    summed: dict[tuple[str, int], list[Any]] = {}
    for seen in sightings:
        start = windows.start(seen.time)
        for term in seen.terms:
            entry = summed.setdefault((term.key, start), [term.label, 0])
            entry[0] = term.label
            entry[1] += 1
    grouped: dict[int, list[Increment]] = {}
    for (key, start), (label, count) in summed.items():
        grouped.setdefault(partition_of(key, partitions), []).append((key, label, start, count))
    return grouped


def parse_increments(value: Any) -> list[Increment]:
    """The increments of a decoded forwarded message; raises ``ValueError`` when malformed."""
    if not isinstance(value, list):
        raise ValueError("not a list of increments")
    parsed = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 4):
            raise ValueError(f"not an increment: {item!r}")
        key, label, start, count = item
        if not (
            isinstance(key, str)
            and isinstance(label, str)
            and type(start) is int
            and type(count) is int
            and count > 0
        ):
            raise ValueError(f"not an increment: {item!r}")
        parse_key(key)
        parsed.append((key, label, start, count))
    return parsed


@dataclass(frozen=True, slots=True)
class TermState:
    """A term's kept windows: label, the partition that counts it, count per window start."""

    label: str
    partition: int
    counts: Mapping[int, int]

    def to_json(self) -> dict[str, Any]:
        """The table value (JSON: window starts as a list of pairs)."""
        return {
            "label": self.label,
            "partition": self.partition,
            "counts": sorted([start, n] for start, n in self.counts.items()),
        }

    @classmethod
    def from_json(cls, value: Any) -> TermState:
        """The state stored by :meth:`to_json`; raises ``ValueError`` when malformed."""
        try:
            return cls(
                str(value["label"]),
                int(value["partition"]),
                {int(start): int(n) for start, n in value["counts"]},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a term state: {value!r}") from exc


def add(
    state: TermState | None,
    increment: Increment,
    partition: int,
    windows: Windows,
    now: float,
) -> TermState | None:
    """``state`` with ``increment`` counted and windows no longer kept dropped; None when the
    increment is late (its window is no longer kept)."""
    _, label, start, count = increment
    if windows.late(start, now):
        return None
    counts = {} if state is None else kept(state, windows, now).counts
    counts = dict(counts)
    counts[start] = counts.get(start, 0) + count
    return TermState(label, partition, counts)


def kept(state: TermState, windows: Windows, now: float) -> TermState:
    """``state`` without the windows no longer kept at ``now`` (empty when it has expired)."""
    counts = {start: n for start, n in state.counts.items() if not windows.late(start, now)}
    return TermState(state.label, state.partition, counts)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One term in one window: its count, its baseline mean and its burst score."""

    kind: TrendKind
    id: str
    label: str
    start: int
    count: int
    baseline_mean: float
    burst: float


def burst_score(count: int, expected: float) -> float:
    """``(count - expected) / sqrt(expected + PRIOR)`` (see the module docstring)."""
    return (count - expected) / math.sqrt(expected + PRIOR)


def snapshot(key: str, state: TermState, start: int, windows: Windows, now: float) -> Snapshot:
    """The term ``key`` in the window starting at ``start``, as of ``now``."""
    kind, term_id = parse_key(key)
    count = state.counts.get(start, 0)
    previous = (
        state.counts.get(start - i * windows.size, 0) for i in range(1, windows.baseline + 1)
    )
    mean = sum(previous) / windows.baseline
    burst = burst_score(count, mean * windows.elapsed(start, now))
    return Snapshot(kind, term_id, state.label, start, count, mean, burst)


class Ranked(Protocol):
    """What ranking needs of a row (a :class:`Snapshot` or a published ``Trend``)."""

    @property
    def id(self) -> str: ...

    @property
    def count(self) -> int: ...

    @property
    def burst(self) -> float: ...


R = TypeVar("R", bound=Ranked)


class RankBy(StrEnum):
    """What ranks terms first: the most articles, or the highest burst score."""

    COUNT = "count"
    BURST = "burst"


def top(rows: Iterable[R], n: int, by: RankBy = RankBy.COUNT) -> list[R]:
    """The ``n`` first rows by count (then burst score) or by burst score (then count),
    highest first; ties go to the smaller id, so the order is stable."""
    if by == RankBy.COUNT:
        return heapq.nsmallest(n, rows, key=lambda r: (-r.count, -r.burst, r.id))
    return heapq.nsmallest(n, rows, key=lambda r: (-r.burst, -r.count, r.id))


def latest_window(records: Sequence[Trend]) -> list[Trend]:
    """Of a stream of trend records, the latest of each term in the newest window any record
    is for (each worker publishes a term's record again whenever its count changes)."""
    if not records:
        return []
    newest = max(r.window_start for r in records)
    latest: dict[tuple[TrendKind, str], Trend] = {}
    for record in records:
        if record.window_start != newest:
            continue
        key = (record.kind, record.id)
        seen = latest.get(key)
        if seen is None or record.updated_at >= seen.updated_at:
            latest[key] = record
    return list(latest.values())
