"""The enricher: every stage over a batch, in order, with bad input dead-lettered."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from prometheus_client import generate_latest

from pipeline.enrich import Enricher
from pipeline.metrics import Metrics
from pipeline.models import DeadLetter, EnrichedEvent, EntityType, Outcome, RawRecord, Reason
from pipeline.settings import Settings
from pipeline.stages.entities.recognise import EntitiesStage, RawMention, recognise
from tests.conftest import FIXTURES

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ENGLISH = {
    "url": "https://news.example.com/a/1",
    "title": "Council approves budget",
    "body": (
        "The city council of Leeds approved a new budget on Monday. Mayor Sarah Collins said "
        "the plan would protect libraries and bus routes across West Yorkshire."
    ),
}
GERMAN = {
    "title": "Stadtrat beschließt Haushalt",
    "body": (
        "Der Stadtrat von Leipzig hat am Montag einen neuen Haushalt beschlossen. Die "
        "Bürgermeisterin sagte, der Plan schütze Bibliotheken und Buslinien in der Region."
    ),
}


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher(Settings(), clock=lambda: NOW)


def _json(value: dict[str, Any]) -> RawRecord:
    return RawRecord(value=orjson.dumps(value))


def _events(outcomes: Sequence[Outcome]) -> list[EnrichedEvent]:
    assert all(isinstance(o, EnrichedEvent) for o in outcomes), outcomes
    return [o for o in outcomes if isinstance(o, EnrichedEvent)]


def test_outcomes_come_back_in_input_order(enricher: Enricher) -> None:
    outcomes = enricher.process(
        [_json(ENGLISH), RawRecord(value=b""), RawRecord(value=b"# T\n\nA body line here.")]
    )
    assert [o.record_type for o in outcomes] == ["enriched", "deadletter", "enriched"]
    assert isinstance(outcomes[1], DeadLetter)
    assert outcomes[1].reason == Reason.EMPTY


def test_an_english_article_is_enriched_with_entities_pointing_into_the_body(
    enricher: Enricher,
) -> None:
    (event,) = _events(enricher.process([_json(ENGLISH)]))
    assert event.enriched is True
    assert event.language == "en"
    assert event.body == ENGLISH["body"]
    assert event.word_count == len(ENGLISH["body"].split())
    assert event.processed_at == NOW
    assert event.ingested_at == NOW
    assert {"Leeds", "Sarah Collins"} <= {e.name for e in event.entities}
    for entity in event.entities:
        for mention in entity.mentions:
            assert event.body[mention.start : mention.end] == mention.text
    assert event.places == ["GB"]
    assert [(q.speaker, q.direct) for q in event.quotes] == [("Sarah Collins", False)]
    for quote in event.quotes:
        assert event.body[quote.start : quote.end] == quote.text
    assert all(m.sentiment is not None for e in event.entities for m in e.mentions)
    for stance in event.stances:
        assert stance.evidence


def test_with_stance_disabled_events_carry_no_sentiment_and_no_stances() -> None:
    settings = Settings(stance_enabled=False)
    (event,) = _events(Enricher(settings, clock=lambda: NOW).process([_json(ENGLISH)]))
    assert {"Leeds", "Sarah Collins"} <= {e.name for e in event.entities}
    assert [q.speaker for q in event.quotes] == ["Sarah Collins"]  # the other stages still run
    assert all(e.sentiment is None for e in event.entities)
    assert all(m.sentiment is None for e in event.entities for m in e.mentions)
    assert event.stances == []


def _analysed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The bodies the entity stage reads from now on."""
    bodies: list[str] = []

    def counting(
        nlp: Any, texts: Sequence[str], batch_size: int, tokenizer: Any = None
    ) -> list[list[RawMention]]:
        bodies.extend(texts)
        return recognise(nlp, texts, batch_size, tokenizer)

    monkeypatch.setattr("pipeline.stages.entities.recognise.recognise", counting)
    return bodies


def _enrichment(event: EnrichedEvent) -> dict[str, Any]:
    return event.model_dump(include={"entities", "quotes", "stances", "topics", "places"})


def test_an_exact_copy_gets_the_same_results_without_the_nlp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    enricher = Enricher(Settings(), clock=lambda: NOW)
    analysed = _analysed(monkeypatch)
    (first,) = _events(enricher.process([_json(ENGLISH)]))
    copy = {**ENGLISH, "url": "https://other.example.org/wire/77"}
    renamed = {**ENGLISH, "title": "Leeds budget approved"}
    again, retitled = _events(enricher.process([_json(copy), _json(renamed)]))
    assert analysed == [ENGLISH["body"], ENGLISH["body"]]  # the first and the retitled one
    assert first.stances
    assert first.topics
    assert _enrichment(again) == _enrichment(first)
    assert again.duplicate_of == first.id  # still reported as a duplicate
    assert retitled.title == "Leeds budget approved"


def test_copies_within_a_batch_are_analysed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    enricher = Enricher(Settings(analysis_cache_size=0), clock=lambda: NOW)
    analysed = _analysed(monkeypatch)
    copy = {**ENGLISH, "url": "https://other.example.org/wire/77"}
    first, again = _events(enricher.process([_json(ENGLISH), _json(copy)]))
    assert analysed == [ENGLISH["body"]]
    assert _enrichment(again) == _enrichment(first)
    first.entities[0].name = "changed"
    assert again.entities[0].name != "changed"  # no model shared between events
    enricher.process([_json(copy)])
    assert analysed == [ENGLISH["body"]] * 2  # size 0: nothing kept between batches


OPINION = {
    "title": "Council row over bus routes",
    "body": (
        "Mayor Sarah Collins praised the drivers of Leeds for their patience. Critics accused "
        "Harlow Transit of wasting public money and misleading passengers for years."
    ),
}


def _sentiments(event: EnrichedEvent) -> list[float | None]:
    return [m.sentiment for e in event.entities for m in e.mentions]


def test_a_batch_taken_behind_is_scored_by_the_backlog_model() -> None:
    metrics = Metrics()
    enricher = Enricher(Settings(analysis_cache_size=0), metrics=metrics, clock=lambda: NOW)
    record = _json(OPINION)
    at_start = generate_latest(metrics.registry).decode()
    for model, late in (("lite", "true"), ("standard", "false")):
        series = f'mediamon_stance_articles_total{{behind="{late}",model="{model}"}}'
        assert f"{series} 0.0" in at_start
    (behind,) = _events(enricher.complete(enricher.analyse([record], behind=True)))
    (keeping_up,) = _events(enricher.complete(enricher.analyse([record])))
    (lite,) = _events(Enricher(Settings(stance_model="lite")).process([record]))
    (standard,) = _events(Enricher(Settings(stance_model="standard")).process([record]))
    assert (behind.stance_model, keeping_up.stance_model) == ("lite", "standard")
    assert _sentiments(behind) == _sentiments(lite) != _sentiments(standard)
    assert behind.stances == lite.stances
    assert _sentiments(keeping_up) == _sentiments(standard)
    text = generate_latest(metrics.registry).decode()
    for model, late in (("lite", "true"), ("standard", "false")):
        assert f'mediamon_stance_articles_total{{behind="{late}",model="{model}"}} 1.0' in text


def test_without_a_backlog_model_the_main_model_scores_every_batch() -> None:
    metrics = Metrics()
    enricher = Enricher(Settings(stance_model="fast", stance_backlog_model=""), metrics=metrics)
    (event,) = _events(enricher.complete(enricher.analyse([_json(OPINION)], behind=True)))
    assert event.stance_model == "fast"
    text = generate_latest(metrics.registry).decode()
    assert 'mediamon_stance_articles_total{behind="true",model="fast"} 1.0' in text
    assert 'mediamon_stance_articles_total{behind="false",model="fast"} 0.0' in text
    off = Enricher(Settings(stance_enabled=False))
    (unscored,) = _events(off.complete(off.analyse([_json(OPINION)], behind=True)))
    assert unscored.stance_model is None


def test_a_copy_names_the_model_that_scored_the_article_it_reuses() -> None:
    enricher = Enricher(Settings(), clock=lambda: NOW)
    (first,) = _events(enricher.complete(enricher.analyse([_json(OPINION)], behind=True)))
    copy = {**OPINION, "url": "https://other.example.org/wire/78"}
    (again,) = _events(enricher.process([_json(copy)]))
    assert again.stance_model == first.stance_model == "lite"
    assert _sentiments(again) == _sentiments(first)


def test_a_language_outside_enrich_languages_is_published_unenriched() -> None:
    (event,) = _events(Enricher(Settings(enrich_languages=["en"])).process([_json(GERMAN)]))
    assert event.language == "de"
    assert event.enriched is False
    assert event.not_enriched_reason == "language 'de' is not served by the NLP models"
    assert event.entities == []
    assert event.enriched_with == {}


def test_without_a_multilingual_model_only_english_is_enriched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDIAMON_NER_MULTILINGUAL_MODEL", "none")
    enricher = Enricher(Settings())
    (german,) = _events(enricher.process([_json(GERMAN)]))
    assert german.enriched is False
    assert german.not_enriched_reason == "language 'de' is not served by the NLP models"


def test_a_german_article_gets_entities_places_quotes_and_tags_but_no_stance(
    enricher: Enricher,
) -> None:
    (event,) = _events(enricher.process([_json(GERMAN)]))
    assert event.language == "de"
    assert event.enriched is True
    assert ("Leipzig", EntityType.LOC) in {(e.name, e.type) for e in event.entities}
    assert ("Leipzig", "DE") in {(loc.name, loc.country) for loc in event.locations}
    assert event.enriched_with == {
        "entities": "multilingual",
        "locations": "any",
        "quotes": "de",
        "topics": "any",
    }
    assert event.stance_model is None
    assert event.stances == []
    assert all(m.sentiment is None for e in event.entities for m in e.mentions)


def test_an_english_event_names_the_english_models(enricher: Enricher) -> None:
    (event,) = _events(enricher.process([_json(ENGLISH)]))
    assert event.enriched_with == {
        "entities": "en",
        "locations": "any",
        "quotes": "en",
        "stance": "en",
        "topics": "en",
    }


@pytest.mark.parametrize(
    ("title", "body"),
    [
        (
            "Poutine en visite en Allemagne",
            "Le président russe Vladimir Poutine a rencontré lundi des élus en Allemagne, où il "
            "a parlé de commerce et d'énergie avec les dirigeants du pays.",
        ),
        (
            "Putin visita Alemania",
            "El presidente ruso Vladímir Putin visitó el lunes Alemania, donde habló de "
            "comercio y de energía con los dirigentes del país durante dos días.",
        ),
        (
            "Путин посетил Германию",
            "Президент России Владимир Путин в понедельник посетил Германию, где обсудил "
            "торговлю и энергетику с руководством страны.",
        ),
        (
            "Putin besucht Deutschland",
            "Der russische Präsident Wladimir Putin besuchte am Montag Deutschland und sprach "
            "dort mit der Regierung über Handel und Energie.",
        ),
    ],
)
def test_one_entity_whatever_the_language(enricher: Enricher, title: str, body: str) -> None:
    """'Путин', 'Poutine' and 'Putin' are Q7747; "Allemagne", "Alemania", "Германию" and
    "Deutschland" are Q183, and the story's places have DE."""
    (event,) = _events(enricher.process([_json({"title": title, "body": body})]))
    ids = {e.id for e in event.entities}
    assert {"Q7747", "Q183"} <= ids, [(e.name, e.id) for e in event.entities]
    assert "DE" in event.places


def test_the_ingest_timestamp_is_the_message_timestamp(enricher: Enricher) -> None:
    stamp = datetime(2026, 2, 2, tzinfo=UTC)
    record = RawRecord(value=orjson.dumps(ENGLISH), timestamp=stamp)
    (event,) = _events(enricher.process([record]))
    assert event.ingested_at == stamp


def test_a_copy_points_to_the_first_within_and_across_batches() -> None:
    metrics = Metrics()
    enricher = Enricher(Settings(), metrics=metrics)
    copy = {**ENGLISH, "url": "https://mirror.example.org/budget", "title": "Budget passed"}
    later = {**ENGLISH, "url": "https://third.example.net/x", "title": "Budget"}
    first, second = _events(enricher.process([_json(ENGLISH), _json(copy)]))
    (third,) = _events(enricher.process([_json(later)]))
    assert first.duplicate_of is None
    assert second.duplicate_of == first.id
    assert third.duplicate_of == first.id
    text = generate_latest(metrics.registry).decode()
    assert 'mediamon_duplicates_total{kind="content"} 2.0' in text


def test_reprocessing_the_same_article_is_not_a_duplicate_of_itself() -> None:
    enricher = Enricher(Settings())
    (first,) = _events(enricher.process([_json(ENGLISH)]))
    (again,) = _events(enricher.process([_json(ENGLISH)]))
    assert again.id == first.id
    assert again.duplicate_of is None


def test_stage_timings_reach_the_metrics() -> None:
    metrics = Metrics()
    Enricher(Settings(), metrics=metrics).process([_json(ENGLISH)])
    text = generate_latest(metrics.registry).decode()
    for stage in ("normalise", "dedup", "entities", "quotes", "stance"):
        assert f'mediamon_stage_seconds_count{{stage="{stage}"}} 1.0' in text


def test_an_entity_failure_dead_letters_only_the_article_it_fails_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = recognise

    def fragile(
        nlp: Any, bodies: Sequence[str], batch_size: int, tokenizer: Any = None
    ) -> list[list[RawMention]]:
        if any("POISON" in body for body in bodies):
            raise ValueError("model blew up")
        return real(nlp, bodies, batch_size, tokenizer)

    monkeypatch.setattr("pipeline.stages.entities.recognise.recognise", fragile)
    poisoned = {"title": "Bad", "body": "This English sentence carries POISON for the model."}
    outcomes = Enricher(Settings()).process([_json(ENGLISH), _json(poisoned)])
    assert outcomes[0].record_type == "enriched"
    assert isinstance(outcomes[1], DeadLetter)
    assert outcomes[1].reason == Reason.INTERNAL_ERROR
    assert outcomes[1].original_bytes() == orjson.dumps(poisoned)


def test_an_unexpected_normalise_error_is_dead_lettered_not_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(record: RawRecord, *, max_bytes: int) -> None:
        raise KeyError("bug")

    monkeypatch.setattr("pipeline.enrich.normalise", broken)
    (outcome,) = Enricher(Settings()).process([_json(ENGLISH)])
    assert isinstance(outcome, DeadLetter)
    assert outcome.reason == Reason.INTERNAL_ERROR
    assert "bug" in outcome.message


def test_fixture_articles_in_three_formats_are_all_enriched(enricher: Enricher) -> None:
    from pipeline.sources import read_sources

    events = _events(enricher.process(list(read_sources([str(FIXTURES / "articles")]))))
    assert len(events) == 3
    assert all(e.enriched and e.entities for e in events)


def test_warm_up_loads_the_models_without_touching_duplicate_state() -> None:
    store: dict[str, Any] = {}
    enricher = Enricher(Settings(), dedup_store=store)
    enricher.warm_up()
    assert store == {}
    stage = enricher.stage("entities")
    assert isinstance(stage, EntitiesStage)
    assert stage._english is not None
    assert stage._multilingual is None  # loaded when the first article not in English comes
