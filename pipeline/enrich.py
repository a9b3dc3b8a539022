"""The enricher: runs a batch of raw records through every stage (normalise, identity, language,
duplicates, entities, quotes, stance, topics) and returns, in input order, an enriched event or
a dead-letter record for each. The stream worker and the offline ``mediamon enrich`` command
both call it."""

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
    Article,
    DeadLetter,
    EnrichedEvent,
    Entity,
    Outcome,
    Quote,
    RawRecord,
    Reason,
    Rejected,
    Stance,
    Topic,
)
from pipeline.reuse import AnalysisCache, Found, Key
from pipeline.settings import Settings
from pipeline.stages.attribution.quotes import find_quotes
from pipeline.stages.attribution.stance import StanceModel, analyse_stance, load_model, model_dir
from pipeline.stages.entities.linking import RawMention, link_entities
from pipeline.stages.entities.places import story_places
from pipeline.stages.entities.recognise import load_recogniser, recognise
from pipeline.stages.normalise.article import normalise
from pipeline.stages.normalise.dedup import Duplicate, DuplicateIndex
from pipeline.stages.normalise.identity import article_id, canonical_url, content_hash
from pipeline.stages.normalise.language import detect_language
from pipeline.stages.topics.iptc import IptcClassifier, load_classifier
from pipeline.stages.topics.tags import Tagger, load_tagger

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _Pending:
    """An article between stages, with what the earlier stages found."""

    index: int
    record: RawRecord
    article: Article
    id: str
    url: str | None
    content_hash: str
    language: str | None
    duplicate: Duplicate | None
    skip_reason: str | None


@dataclass(slots=True)
class Analysis:
    """A batch after the stateless stages: dead letters so far, articles, their entities."""

    outcomes: list[Outcome | None]
    pending: list[_Pending] = field(default_factory=list)
    entities: dict[int, list[Entity]] = field(default_factory=dict)
    quotes: dict[int, list[Quote]] = field(default_factory=dict)
    stances: dict[int, list[Stance]] = field(default_factory=dict)
    stance_models: dict[int, str] = field(default_factory=dict)
    places: dict[int, list[str]] = field(default_factory=dict)
    topics: dict[int, list[Topic]] = field(default_factory=dict)


class Enricher:
    """Turns raw records into enriched events; holds the loaded models and the duplicate index.

    ``dedup_store`` is the duplicate index's journal (one record per article): a plain dict
    offline, a changelog-backed Faust table in the stream. ``metrics``, when given, receives
    per-stage timings and duplicate counts.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        dedup_store: MutableMapping[str, Any] | None = None,
        metrics: Metrics | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.settings = settings
        self.dedup = DuplicateIndex(
            {} if dedup_store is None else dedup_store,
            threshold=settings.dedup_threshold,
            window_s=settings.dedup_window_s,
            max_entries=settings.dedup_max_entries,
        )
        self._metrics = metrics
        self._clock = clock
        self._nlp: Any = None
        self._cache = AnalysisCache(settings.analysis_cache_size)
        # resolved now, so that a wrong model setting stops the worker or command at once; by
        # whether the worker is behind: the name the settings give and the model's directory
        main = (settings.stance_model, model_dir(settings.stance_model))
        backlog = settings.stance_backlog_model
        behind = (backlog, model_dir(backlog)) if backlog else main
        self._stance_models = {False: main, True: main if behind[1] == main[1] else behind}
        if metrics is not None and settings.stance_enabled:  # the series at zero from the start
            for late, (name, _) in self._stance_models.items():
                metrics.stance_articles.labels(model=name, behind=str(late).lower())

    @property
    def nlp(self) -> Any:
        """The spaCy pipeline, loaded on first use."""
        if self._nlp is None:
            self._nlp = load_recogniser(self.settings.ner_model)
        return self._nlp

    def warm_up(self) -> None:
        """Load the models now rather than inside the first batch; touches no state."""
        sentence = "The spokesman for the council in Leeds said the service would resume."
        detect_language(sentence)
        recognise(self.nlp, [sentence], 1)
        if self.settings.stance_enabled:
            leeds = sentence.index("Leeds")
            for behind in (False, True):
                _, model = self.stance_for(behind=behind)
                model.probabilities([sentence], [[(leeds, leeds + len("Leeds"))]])
        self.tagger.tag(None, sentence, [], [], self.iptc.classify(None, sentence))

    def process(self, records: Sequence[RawRecord]) -> list[Outcome]:
        """Enrich a batch; never raises for bad input (it becomes a dead-letter record)."""
        return self.complete(self.analyse(records))

    def analyse(self, records: Sequence[RawRecord], *, behind: bool = False) -> Analysis:
        """The stateless part of :meth:`process`: normalise, identify, detect the language and
        run the NLP. ``behind`` (the stream's worker is behind its input) scores stance with
        the backlog model (:meth:`stance_for`). Safe to run in a worker thread."""
        analysis = Analysis(outcomes=[None] * len(records))
        with self._stage("normalise"):
            for index, record in enumerate(records):
                try:
                    analysis.pending.append(self._identify(index, record))
                except Rejected as exc:
                    analysis.outcomes[index] = self._dead_letter(record, exc.reason, exc.message)
                except Exception as exc:  # a bug must not stop the stream
                    log.exception("normalise failed on %s", _where(record))
                    analysis.outcomes[index] = self._dead_letter(
                        record, Reason.INTERNAL_ERROR, repr(exc)
                    )
        fresh, copies = self._known(analysis)
        with self._stage("entities"):
            analysis.entities = self._entities(list(fresh.values()))
        with self._stage("quotes"):
            self._quotes(analysis)
        with self._stage("stance"):
            self._stance(analysis, behind)
        with self._stage("topics"):
            self._topics(analysis)
        self._reuse(analysis, fresh, copies)
        return analysis

    def _known(self, analysis: Analysis) -> tuple[dict[Key, _Pending], dict[int, Key]]:
        """The articles the NLP stages must read, by cache key, and the others (copies of an
        article in the analysis cache or earlier in the batch) by record index."""
        fresh: dict[Key, _Pending] = {}
        copies: dict[int, Key] = {}
        for item in analysis.pending:
            if item.skip_reason is not None:
                continue
            key = _key(item)
            if key in fresh or key in self._cache:
                copies[item.index] = key
            else:
                fresh[key] = item
        return fresh, copies

    def _reuse(
        self, analysis: Analysis, fresh: dict[Key, _Pending], copies: dict[int, Key]
    ) -> None:
        """Keep what the stages found in the fresh articles, and give it to the copies (a copy
        of an article the entity stage failed on is dead-lettered like it)."""
        found_now: dict[Key, Found] = {}
        for key, item in fresh.items():
            entities = analysis.entities.get(item.index)
            if entities is not None:
                found_now[key] = Found(
                    entities=entities,
                    quotes=analysis.quotes.get(item.index),
                    stances=analysis.stances.get(item.index),
                    stance_model=analysis.stance_models.get(item.index),
                    places=analysis.places.get(item.index),
                    topics=analysis.topics.get(item.index),
                )
                self._cache.put(key, found_now[key])
        for index, key in copies.items():
            here = found_now.get(key)
            found = here.copy() if here is not None else self._cache.get(key)
            if found is None:
                continue
            analysis.entities[index] = found.entities
            if found.quotes is not None:
                analysis.quotes[index] = found.quotes
            if found.stances is not None:
                analysis.stances[index] = found.stances
            if found.stance_model is not None:
                analysis.stance_models[index] = found.stance_model
            if found.places is not None:
                analysis.places[index] = found.places
            if found.topics is not None:
                analysis.topics[index] = found.topics

    def _quotes(self, analysis: Analysis) -> None:
        """Quotations with their speakers; an article this stage fails on keeps its entities
        and gets no quotes (logged)."""
        for item in analysis.pending:
            entities = analysis.entities.get(item.index)
            if item.skip_reason is not None or entities is None:
                continue
            try:
                analysis.quotes[item.index] = find_quotes(item.article.body, entities)
            except Exception:
                log.exception("quotation stage failed on %s", _where(item.record))

    def _stance(self, analysis: Analysis, behind: bool) -> None:
        """Sentiment on every mention and entity, and stances, for the whole batch in shared
        inference calls (article by article when that fails); an article this stage fails on
        keeps its entities and quotes, without sentiment or stances (logged)."""
        if not self.settings.stance_enabled:
            return
        items = [item for item in analysis.pending if item.index in analysis.entities]
        name, model = self.stance_for(behind=behind)
        try:
            _stance_of(analysis, items, model)
        except Exception:
            log.exception("stance batch failed; retrying article by article")
            for item in items:
                try:
                    _stance_of(analysis, [item], model)
                except Exception:
                    log.exception("stance stage failed on %s", _where(item.record))
        scored = [item for item in items if item.index in analysis.stances]
        for item in scored:
            analysis.stance_models[item.index] = name
        if self._metrics is not None and scored:
            labels = {"model": name, "behind": str(behind).lower()}
            self._metrics.stance_articles.labels(**labels).inc(len(scored))

    @property
    def stance(self) -> StanceModel:
        """The stance classifier of the settings, loaded on first use (shared, read-only)."""
        return self.stance_for(behind=False)[1]

    def stance_for(self, *, behind: bool) -> tuple[str, StanceModel]:
        """The stance classifier's name (as the settings give it) and the classifier for a
        batch: ``MEDIAMON_STANCE_BACKLOG_MODEL``'s when the worker is ``behind`` and one is set,
        else ``MEDIAMON_STANCE_MODEL``'s."""
        name, directory = self._stance_models[behind]
        return name, load_model(directory)

    @property
    def iptc(self) -> IptcClassifier:
        """The IPTC classifier of the settings, loaded on first use (shared, read-only)."""
        return load_classifier(self.settings.iptc_model, self.settings.iptc_min_score)

    @property
    def tagger(self) -> Tagger:
        """The taxonomy's tagger, loaded on first use (shared, read-only)."""
        return load_tagger(self.settings.taxonomy_path, self.settings.taxonomy_mode)

    def _topics(self, analysis: Analysis) -> None:
        """The places of each article, then its IPTC codes and taxonomy tags; an article the
        topic stage fails on keeps everything else, without topics (logged). A model or taxonomy
        file that cannot be loaded is an error of the whole batch, raised here."""
        iptc, tagger = self.iptc, self.tagger
        for item in analysis.pending:
            entities = analysis.entities.get(item.index)
            if item.skip_reason is not None or entities is None:
                continue
            article = item.article
            places = story_places(entities, article.body, article.title)
            analysis.places[item.index] = places
            try:
                codes = iptc.classify(article.title, article.body, entities)
                tags = tagger.tag(article.title, article.body, entities, places, codes)
                analysis.topics[item.index] = codes + tags
            except Exception:
                log.exception("topic stage failed on %s", _where(item.record))

    def complete(self, analysis: Analysis) -> list[Outcome]:
        """The stateful part of :meth:`process`: duplicate detection against the store, then
        the events. Runs where the store may be touched (the event loop, in the stream)."""
        outcomes = analysis.outcomes
        with self._stage("dedup"):
            for item in analysis.pending:
                item.duplicate = self.dedup.check(
                    article_id=item.id,
                    canonical_url=item.url,
                    content_hash=item.content_hash,
                    body=item.article.body,
                    seen_at=(item.record.timestamp or self._clock()).timestamp(),
                )
                if item.duplicate is not None and self._metrics is not None:
                    self._metrics.duplicates.labels(kind=item.duplicate.kind).inc()
        for item in analysis.pending:
            if item.skip_reason is None and item.index not in analysis.entities:
                outcomes[item.index] = self._dead_letter(
                    item.record, Reason.INTERNAL_ERROR, "the entity stage failed on this article"
                )
            else:
                outcomes[item.index] = self._event(
                    item,
                    analysis.entities.get(item.index, []),
                    analysis.quotes.get(item.index, []),
                    analysis.stances.get(item.index, []),
                    analysis.stance_models.get(item.index),
                    analysis.topics.get(item.index, []),
                    analysis.places.get(item.index, []),
                )
        return [outcome for outcome in outcomes if outcome is not None]

    def _identify(self, index: int, record: RawRecord) -> _Pending:
        article = normalise(record, max_bytes=self.settings.max_message_bytes)
        url = canonical_url(article.url) if article.url else None
        if url is not None:
            article.url = url
        detected = detect_language(f"{article.title or ''}\n{article.body}")
        language = detected or article.language
        if language is None:
            skip: str | None = "language could not be determined"
        elif language not in self.settings.enrich_languages:
            skip = f"language '{language}' is not served by the NLP models"
        else:
            skip = None
        return _Pending(
            index=index,
            record=record,
            article=article,
            id=article_id(article),
            url=url,
            content_hash=content_hash(article.body),
            language=language,
            duplicate=None,
            skip_reason=skip,
        )

    def _entities(self, items: Sequence[_Pending]) -> dict[int, list[Entity]]:
        """Entities per record index; an article the model or the linker fails on is left out
        (and logged), so that it is dead-lettered while the rest of the batch goes on."""
        if not items:
            return {}
        found: Sequence[list[RawMention] | None]
        try:
            found = recognise(self.nlp, [i.article.body for i in items], self.settings.batch_size)
        except Exception:
            log.exception("entity batch failed; retrying article by article")
            found = [self._recognise_one(item) for item in items]
        entities: dict[int, list[Entity]] = {}
        for item, mentions in zip(items, found, strict=True):
            if mentions is None:
                continue
            article = item.article
            year = article.published_at.year if article.published_at else None
            try:
                entities[item.index] = link_entities(
                    mentions, article.body, article.title, year=year
                )
            except Exception:
                log.exception("entity linking failed on %s", _where(item.record))
        return entities

    def _recognise_one(self, item: _Pending) -> list[RawMention] | None:
        try:
            (mentions,) = recognise(self.nlp, [item.article.body], 1)
        except Exception:
            log.exception("entity recognition failed on %s", _where(item.record))
            return None
        return mentions

    def _event(
        self,
        item: _Pending,
        entities: list[Entity],
        quotes: list[Quote],
        stances: list[Stance],
        stance_model: str | None,
        topics: list[Topic],
        places: list[str],
    ) -> EnrichedEvent:
        article = item.article
        now = self._clock()
        return EnrichedEvent(
            id=item.id,
            url=article.url,
            source=article.source,
            title=article.title,
            authors=article.authors,
            published_at=article.published_at,
            ingested_at=item.record.timestamp or now,
            processed_at=now,
            language=item.language,
            enriched=item.skip_reason is None,
            not_enriched_reason=item.skip_reason,
            body=article.body,
            word_count=len(article.body.split()),
            content_hash=item.content_hash,
            duplicate_of=item.duplicate.of if item.duplicate else None,
            entities=entities,
            quotes=quotes,
            stances=stances,
            stance_model=stance_model,
            topics=topics,
            places=places,
        )

    def _dead_letter(self, record: RawRecord, reason: Reason, message: str) -> DeadLetter:
        return DeadLetter.of(record, reason, message, self._clock())

    @contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            if self._metrics is not None:
                self._metrics.observe_stage(name, time.perf_counter() - started)


def _stance_of(analysis: Analysis, items: Sequence[_Pending], model: StanceModel) -> None:
    found = analyse_stance(
        [
            (i.article.body, analysis.entities[i.index], analysis.quotes.get(i.index, []))
            for i in items
        ],
        model,
    )
    for item, (entities, stances) in zip(items, found, strict=True):
        analysis.entities[item.index] = entities
        analysis.stances[item.index] = stances


def _key(item: _Pending) -> Key:
    published = item.article.published_at
    return (item.content_hash, item.article.title, published.year if published else None)


def _where(record: RawRecord) -> str:
    if record.topic is not None:
        return f"{record.topic}[{record.partition}]@{record.offset}"
    return record.origin or "input"
