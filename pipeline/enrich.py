"""The enricher: normalises a batch of raw records into article records, runs the configured
list of article stages over them (by default entities, quotes, stance, topics: see
:mod:`pipeline.stages.standard`), detects duplicates, and returns, in input order, an enriched
event or a dead-letter record for each. The stream worker and the offline ``mediamon enrich``
command both call it.

Each stage runs over the live articles of the languages it serves, in one call for the batch;
when that call fails, the stage runs article by article and its failure policy decides what
becomes of an article it still fails on. What the stages wrote is kept in the analysis cache,
so that an exact copy of a recent article skips them."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipeline.metrics import Metrics
from pipeline.models import (
    DeadLetter,
    EnrichedEvent,
    Outcome,
    RawRecord,
    Reason,
    Rejected,
)
from pipeline.resources.gazetteer import Gazetteer
from pipeline.resources.kb import KnowledgeBase, default_kb
from pipeline.reuse import AnalysisCache, Found, Key
from pipeline.settings import Settings
from pipeline.stages.base import ArticleRecord, BatchContext, OnError, Stage, check_order
from pipeline.stages.normalise.article import normalise
from pipeline.stages.normalise.dedup import DuplicateIndex
from pipeline.stages.normalise.identity import article_id, canonical_url, content_hash
from pipeline.stages.normalise.language import detect_language
from pipeline.stages.standard import standard_stages

log = logging.getLogger(__name__)

FRAME_STAGES = ("normalise", "dedup")
"""The steps around the article stages, timed under these names: raw record to article
record first, duplicate detection against the store last."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Analysis:
    """A batch after the stateless part: dead letters so far (by record index) and the
    article records with what the stages found."""

    outcomes: list[Outcome | None]
    articles: list[ArticleRecord] = field(default_factory=list)


class Enricher:
    """Turns raw records into enriched events; holds the stages and the duplicate index.

    ``stages`` defaults to :func:`~pipeline.stages.standard.standard_stages` for the settings,
    given ``kb`` (default: the shipped knowledge base) and ``gazetteer`` (default: the file the
    settings name). ``dedup_store`` is the duplicate
    index's journal (one record per article): a plain dict offline, a changelog-backed Faust
    table in the stream. ``metrics``, when given, receives per-stage timings and duplicate
    counts.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        stages: Sequence[Stage] | None = None,
        kb: KnowledgeBase | None = None,
        gazetteer: Gazetteer | None = None,
        dedup_store: MutableMapping[str, Any] | None = None,
        metrics: Metrics | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.settings = settings
        self.kb = kb if kb is not None else default_kb()
        self.stages = list(
            standard_stages(settings, self.kb, metrics, gazetteer) if stages is None else stages
        )
        check_order(self.stages)
        self.dedup = DuplicateIndex(
            {} if dedup_store is None else dedup_store,
            threshold=settings.dedup_threshold,
            window_s=settings.dedup_window_s,
            max_entries=settings.dedup_max_entries,
        )
        self._metrics = metrics
        self._clock = clock
        self._cache = AnalysisCache(settings.analysis_cache_size)
        self._written = tuple(
            dict.fromkeys([*(f for stage in self.stages for f in stage.writes), "enriched_with"])
        )
        if metrics is not None:
            metrics.init_stages([*FRAME_STAGES, *(stage.name for stage in self.stages)])

    def stage(self, name: str) -> Stage:
        """The stage called ``name`` (KeyError if the list has none)."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    def warm_up(self) -> None:
        """Load every stage's models and run each stage once on a short article (and the
        stance stage with both its models), rather than inside the first batch; touches no
        state (neither the cache nor the duplicate index)."""
        sentence = "The spokesman for the council in Leeds said the service would resume."
        detect_language(sentence)
        for stage in self.stages:
            stage.load()
        for behind in (False, True):
            record = self._article(0, RawRecord(value=sentence.encode()))
            record.language, record.skip_reason = "en", None
            for stage in self.stages:
                if stage.serves(record.language):
                    stage.run([record], BatchContext(behind=behind))

    def process(self, records: Sequence[RawRecord]) -> list[Outcome]:
        """Enrich a batch; never raises for bad input (it becomes a dead-letter record)."""
        return self.complete(self.analyse(records))

    def analyse(self, records: Sequence[RawRecord], *, behind: bool = False) -> Analysis:
        """The stateless part of :meth:`process`: normalise, identify, detect the language and
        run the article stages. ``behind`` (the stream's worker is behind its input) is given
        to the stages (the stance stage takes its backlog model). Safe to run in a worker
        thread."""
        analysis = Analysis(outcomes=[None] * len(records))
        with self._timed("normalise"):
            for index, record in enumerate(records):
                try:
                    analysis.articles.append(self._article(index, record))
                except Rejected as exc:
                    analysis.outcomes[index] = self._dead_letter(record, exc.reason, exc.message)
                except Exception as exc:  # a bug must not stop the stream
                    log.exception("normalise failed on %s", _where(record))
                    analysis.outcomes[index] = self._dead_letter(
                        record, Reason.INTERNAL_ERROR, repr(exc)
                    )
        fresh, copies = self._known(analysis.articles)
        context = BatchContext(behind=behind)
        for stage in self.stages:
            with self._timed(stage.name):
                stage.load()
                todo = [r for r in fresh.values() if r.live and stage.serves(r.language)]
                if todo:
                    self._run(stage, todo, context)
        self._reuse(fresh, copies)
        return analysis

    def _run(self, stage: Stage, records: list[ArticleRecord], context: BatchContext) -> None:
        """``stage`` over ``records`` in one call; when it fails, article by article, and an
        article it still fails on is dead-lettered or goes on as the stage found it."""
        ran = list(records)
        try:
            stage.run(records, context)
        except Exception:
            log.exception("the %s stage failed on a batch; retrying article by article", stage.name)
            ran = [record for record in records if self._run_one(stage, record, context)]
        for record in ran:
            record.enriched_with[stage.name] = stage.variant(record.language)

    def _run_one(self, stage: Stage, record: ArticleRecord, context: BatchContext) -> bool:
        """``stage`` over one article; whether it succeeded (if not, the article is as before,
        or dead-lettered)."""
        before = {name: getattr(record, name) for name in stage.writes}
        try:
            stage.run([record], context)
            return True
        except Exception:
            log.exception("the %s stage failed on %s", stage.name, _where(record.record))
            for name, value in before.items():  # as if the stage had not run
                setattr(record, name, value)
            if stage.on_error is OnError.DEAD_LETTER:
                record.failed = stage.name
            return False

    def _known(
        self, articles: Sequence[ArticleRecord]
    ) -> tuple[dict[Key, ArticleRecord], dict[Key, list[ArticleRecord]]]:
        """The articles the stages must read, by cache key, and the others (copies of an
        article in the analysis cache or earlier in the batch), by the key they copy."""
        fresh: dict[Key, ArticleRecord] = {}
        copies: dict[Key, list[ArticleRecord]] = {}
        for record in articles:
            if not record.live:
                continue
            key = _key(record)
            if key in fresh or key in self._cache:
                copies.setdefault(key, []).append(record)
            else:
                fresh[key] = record
        return fresh, copies

    def _reuse(
        self, fresh: dict[Key, ArticleRecord], copies: dict[Key, list[ArticleRecord]]
    ) -> None:
        """Keep what the stages wrote on the fresh articles, and give it to the copies (a copy
        of an article a stage dead-letters is dead-lettered like it)."""
        found_now: dict[Key, Found] = {}
        for key, record in fresh.items():
            if record.failed is None:
                found_now[key] = {name: getattr(record, name) for name in self._written}
                self._cache.put(key, found_now[key])
        for key, records in copies.items():
            for copy in records:
                here = found_now.get(key)
                found = AnalysisCache.copy(here) if here is not None else self._cache.get(key)
                if found is not None:
                    for name, value in found.items():
                        setattr(copy, name, value)
                else:  # its original, in this batch, was dead-lettered by a stage
                    copy.failed = fresh[key].failed

    def complete(self, analysis: Analysis) -> list[Outcome]:
        """The stateful part of :meth:`process`: duplicate detection against the store, then
        the events. Runs where the store may be touched (the event loop, in the stream)."""
        outcomes = analysis.outcomes
        with self._timed("dedup"):
            for record in analysis.articles:
                record.duplicate = self.dedup.check(
                    article_id=record.id,
                    canonical_url=record.url,
                    content_hash=record.content_hash,
                    body=record.article.body,
                    seen_at=(record.record.timestamp or self._clock()).timestamp(),
                )
                if record.duplicate is not None and self._metrics is not None:
                    self._metrics.duplicates.labels(kind=record.duplicate.kind).inc()
        for record in analysis.articles:
            if record.failed is not None:
                outcomes[record.index] = self._dead_letter(
                    record.record,
                    Reason.INTERNAL_ERROR,
                    f"the {record.failed} stage failed on this article",
                )
            else:
                outcomes[record.index] = self._event(record)
        return [outcome for outcome in outcomes if outcome is not None]

    def _article(self, index: int, record: RawRecord) -> ArticleRecord:
        """The article record of a raw record: normalised, identified, its language detected
        and whether any stage serves it."""
        article = normalise(record, max_bytes=self.settings.max_message_bytes)
        url = canonical_url(article.url) if article.url else None
        if url is not None:
            article.url = url
        detected = detect_language(f"{article.title or ''}\n{article.body}")
        language = detected or article.language
        if language is None:
            skip: str | None = "language could not be determined"
        elif not any(stage.serves(language) for stage in self.stages):
            skip = f"language '{language}' is not served by the NLP models"
        else:
            skip = None
        return ArticleRecord(
            index=index,
            record=record,
            article=article,
            id=article_id(article),
            url=url,
            content_hash=content_hash(article.body),
            language=language,
            skip_reason=skip,
        )

    def _event(self, record: ArticleRecord) -> EnrichedEvent:
        article = record.article
        now = self._clock()
        return EnrichedEvent(
            id=record.id,
            url=article.url,
            source=article.source,
            title=article.title,
            authors=article.authors,
            published_at=article.published_at,
            ingested_at=record.record.timestamp or now,
            processed_at=now,
            language=record.language,
            enriched=record.skip_reason is None,
            not_enriched_reason=record.skip_reason,
            body=article.body,
            word_count=len(article.body.split()),
            content_hash=record.content_hash,
            duplicate_of=record.duplicate.of if record.duplicate else None,
            **record.event_fields(),
        )

    def _dead_letter(self, record: RawRecord, reason: Reason, message: str) -> DeadLetter:
        return DeadLetter.of(record, reason, message, self._clock())

    @contextmanager
    def _timed(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            if self._metrics is not None:
                self._metrics.observe_stage(name, time.perf_counter() - started)


def _key(record: ArticleRecord) -> Key:
    return (record.content_hash, record.article.title, record.year)


def _where(record: RawRecord) -> str:
    if record.topic is not None:
        return f"{record.topic}[{record.partition}]@{record.offset}"
    return record.origin or "input"
