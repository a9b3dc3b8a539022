"""The stance stage: model inputs with marked targets, pronoun mentions, the shipped classifier
on clear invented sentences, holders taken from quotations, and the reference article."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from pipeline.enrich import Enricher
from pipeline.models import EnrichedEvent, Entity, EntityType, Quote, RawRecord
from pipeline.resources.kb import KnowledgeBase
from pipeline.settings import Settings
from pipeline.stages.attribution.stance import (
    BUNDLED,
    FAST_MODEL_DIR,
    LITE_MODEL_DIR,
    MODEL_DIR,
    THRESHOLD,
    TOKENIZERS_DIR,
    StanceModel,
    StanceStage,
    analyse_stance,
    load_model,
    model_dir,
    model_inputs,
    polarity,
    tokenizer_file,
)
from pipeline.stages.attribution.stance_input import (
    BATCH,
    END_MARK,
    MAX_TOKENS,
    PADDING,
    START_MARK,
    Encoder,
    chunks,
)
from tests.stages.attribution.test_quotes import entity

REFERENCE = Path("/work/shared/samples/moscowtimes-2015-10-15-putin-us-delegation.txt")
PER, LOC = EntityType.PER, EntityType.LOC


def quote(body: str, text: str, speaker: Entity | None) -> Quote:
    start = body.index(text)
    return Quote(
        start=start,
        end=start + len(text),
        text=text,
        speaker=speaker.name if speaker else None,
        speaker_id=speaker.id if speaker else None,
        cue="say",
        direct=True,
    )


class FixedModel(StanceModel):
    """A stub classifier: every target gets the same probabilities; records what it saw."""

    def __init__(self, probabilities: Sequence[float]) -> None:
        self.fixed = np.asarray(probabilities, dtype=np.float32)
        self.seen: list[str] = []
        self.spans: list[list[tuple[int, int]]] = []

    def probabilities(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> list[np.ndarray]:
        self.seen.extend(texts)
        self.spans.extend(list(s) for s in spans)
        return [np.tile(self.fixed, (len(s), 1)) for s in spans]


NEGATIVE = FixedModel([0.9, 0.08, 0.02])


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return Encoder.from_file(tokenizer_file(MODEL_DIR))


# -- model input --------------------------------------------------------------------------------


def test_every_target_is_wrapped_in_markers(encoder: Encoder) -> None:
    text = "Critics accused Tom Hale of lying to the London council."
    spans = [(text.index(name), text.index(name) + len(name)) for name in ("Tom Hale", "London")]
    (windows,) = encoder.windows([text], [spans])
    (window,) = windows
    tokens = [encoder.tokenizer.id_to_token(i) for i in window.ids]
    assert tokens[0] == "[CLS]"
    assert tokens[-1] == "[SEP]"
    assert window.targets == [0, 1]
    first, second = window.positions
    assert tokens[first : first + 4] == [START_MARK, "tom", "hale", END_MARK]
    assert tokens[second : second + 3] == [START_MARK, "london", END_MARK]
    assert tokens.count(START_MARK) == tokens.count(END_MARK) == 2


def test_a_long_text_is_cut_into_windows_holding_every_target_once(encoder: Encoder) -> None:
    filler = " ".join(f"word{i}" for i in range(150))
    text = f"Anna Keller praised {filler} while Tom Hale attacked {filler} and Berg left."
    names = ("Anna Keller", "Tom Hale", "Berg")
    spans = [(text.index(n), text.index(n) + len(n)) for n in names]
    (windows,) = encoder.windows([text], [spans])
    assert len(windows) > 1
    assert sorted(t for w in windows for t in w.targets) == [0, 1, 2]
    for window in windows:
        assert len(window.ids) <= MAX_TOKENS
        for position, target in zip(window.positions, window.targets, strict=True):
            marked: list[str] = []
            for token_id in window.ids[position + 1 :]:
                token = encoder.tokenizer.id_to_token(token_id) or ""
                if token == END_MARK:
                    break
                marked.append(token)
            assert " ".join(marked).replace(" ##", "") == names[target].lower()


def test_an_overlapping_span_is_not_marked_twice(encoder: Encoder) -> None:
    text = "President Tom Hale resigned."
    (windows,) = encoder.windows([text], [[(0, 18), (10, 18)]])
    assert [t for w in windows for t in w.targets] == [0]


def test_polarity_reads_the_score_with_the_threshold() -> None:
    assert [polarity(s) for s in (-0.9, -THRESHOLD, 0.0, THRESHOLD, 0.21)] == [-1, 0, 0, 0, 1]


# -- the shipped classifier ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "sign"),
    [
        ("Critics accused Tom Hale of corruption and of lying to voters for years.", -1),
        ("Tom Hale was praised for his courage and his remarkable success in office.", 1),
        ("Tom Hale will travel to Dunmore on Tuesday for the annual meeting.", 0),
    ],
)
@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_the_shipped_models_read_clear_sentences(sentence: str, sign: int, name: str) -> None:
    hale = entity(sentence, "local:tom-hale", "Tom Hale", PER)
    ((out,), _) = analyse_stance([(sentence, [hale], [])], load_model(BUNDLED[name]))[0]
    mention = out.mentions[0]
    assert mention.text == "Tom Hale"
    assert mention.sentiment is not None
    assert -1.0 <= mention.sentiment <= 1.0
    assert polarity(mention.sentiment) == sign


def test_the_target_decides_the_polarity_in_one_sentence() -> None:
    body = "Voters punished Tom Hale for the scandal and rewarded Anna Keller with a landslide win."
    hale = entity(body, "local:tom-hale", "Tom Hale", PER)
    keller = entity(body, "local:anna-keller", "Anna Keller", PER)
    (entities, _) = analyse_stance([(body, [hale, keller], [])])[0]
    scores = {e.id: e.sentiment for e in entities}
    assert scores["local:tom-hale"] is not None
    assert scores["local:anna-keller"] is not None
    assert scores["local:tom-hale"] < -THRESHOLD
    assert scores["local:anna-keller"] > THRESHOLD


# -- mentions, entities and stances -------------------------------------------------------------


def test_pronouns_join_the_person_of_their_gender_named_before_them() -> None:
    body = (
        "Tom Hale arrived in Dunmore on Monday. He met the council there. "
        "Anna Keller spoke first. She thanked him for coming."
    )
    hale = entity(body, "local:tom-hale", "Tom Hale", PER)
    keller = entity(body, "local:anna-keller", "Anna Keller", PER)
    dunmore = entity(body, "local:dunmore", "Dunmore", LOC)
    (entities, _) = analyse_stance([(body, [hale, keller, dunmore], [])], FixedModel([0, 1, 0]))[0]
    texts = {e.id: [(m.text, m.start) for m in e.mentions] for e in entities}
    assert texts["local:tom-hale"] == [
        ("Tom Hale", 0),
        ("He", body.index("He")),
        ("him", body.index("him")),  # Anna is nearer, but "him" is not her
    ]
    assert texts["local:anna-keller"] == [
        ("Anna Keller", body.index("Anna")),
        ("She", body.index("She")),
    ]
    assert texts["local:dunmore"] == [("Dunmore", body.index("Dunmore"))]
    for e in entities:
        for m in e.mentions:
            assert body[m.start : m.end] == m.text


def test_an_honorific_keeps_a_pronoun_from_the_wrong_person() -> None:
    body = "Mrs Keller met Mr Hale in Dunmore. He praised her plan."
    hale = entity(body, "local:tom-hale", "Hale", PER)
    keller = entity(body, "local:anna-keller", "Keller", PER)
    (entities, _) = analyse_stance([(body, [keller, hale], [])], FixedModel([0, 1, 0]))[0]
    texts = {e.id: [m.text for m in e.mentions] for e in entities}
    assert texts == {"local:tom-hale": ["Hale", "He"], "local:anna-keller": ["Keller", "her"]}


def test_a_pronoun_with_no_person_close_before_it_stays_unlinked() -> None:
    body = (
        "He opened the meeting. Tom Hale spoke. The vote was held. The council met again. "
        "The budget passed. She said nothing."
    )
    hale = entity(body, "local:tom-hale", "Tom Hale", PER)
    (entities, _) = analyse_stance([(body, [hale], [])], FixedModel([0, 1, 0]))[0]
    assert [m.text for m in entities[0].mentions] == ["Tom Hale"]


def test_a_title_phrase_joins_the_person_who_holds_the_title() -> None:
    body = (
        "Senator Jane Roe toured the mill in Dunmore. Tom Hale, a farmer, met the group there. "
        "Workers said the senator had betrayed them. The mayor was not invited."
    )
    roe = entity(body, "local:jane-roe", "Jane Roe", PER)
    hale = entity(body, "local:tom-hale", "Tom Hale", PER)
    (entities, stances) = analyse_stance([(body, [roe, hale], [])], FixedModel([1, 0, 0]))[0]
    texts = {e.id: [m.text for m in e.mentions] for e in entities}
    # "the senator" is Jane Roe (named with the title) though Tom Hale was named last; no one
    # was named as mayor, so "The mayor" stays unlinked
    assert texts == {
        "local:jane-roe": ["Jane Roe", "the senator"],
        "local:tom-hale": ["Tom Hale"],
    }
    title = entities[0].mentions[1]
    assert body[title.start : title.end] == "the senator"
    assert title.sentiment is not None
    assert title.sentiment < -THRESHOLD
    assert ("author", "Jane Roe") in {(s.holder, s.target) for s in stances}


def test_mentions_and_entities_get_scores_and_the_author_holds_the_stance() -> None:
    body = "Critics attacked Tom Hale over the failed bridge. Hale resigned on Friday."
    hale = entity(body, "local:tom-hale", "Tom Hale", PER, "Hale")
    (entities, stances) = analyse_stance([(body, [hale], [])], NEGATIVE)[0]
    (out,) = entities
    assert [m.sentiment for m in out.mentions] == [-0.88, -0.88]
    assert out.sentiment == -0.88
    (stance,) = stances
    assert (stance.holder, stance.holder_id, stance.target_id) == ("author", None, hale.id)
    assert stance.polarity == -1
    assert stance.score == 0.88
    assert [(e.start, e.end) for e in stance.evidence] == [(0, 49), (50, len(body))]


def test_short_sentences_are_neutral_without_inference() -> None:
    body = "Tom Hale\n\nCritics attacked Tom Hale over the failed bridge on Monday."
    hale = entity(body, "local:tom-hale", "Tom Hale", PER)
    model = FixedModel([0.9, 0.08, 0.02])
    (entities, _) = analyse_stance([(body, [hale], [])], model)[0]
    assert [m.sentiment for m in entities[0].mentions] == [0.0, -0.88]
    assert model.seen == ["Critics attacked Tom Hale over the failed bridge on Monday."]


def test_model_inputs_are_the_sentences_and_mentions_the_model_is_given() -> None:
    body = (
        "Tom Hale\n\nCritics attacked Tom Hale over the failed bridge on Monday. "
        "He said the council in Dunmore had ignored his engineers."
    )
    hale = entity(body, "local:tom-hale", "Tom Hale", PER)
    dunmore = entity(body, "local:dunmore", "Dunmore", LOC)
    model = FixedModel([0.1, 0.8, 0.1])
    analyse_stance([(body, [hale, dunmore], [])], model)
    inputs = model_inputs([(body, [hale, dunmore], [])])
    assert [text for text, _ in inputs] == model.seen
    assert [spans for _, spans in inputs] == model.spans
    second = inputs[1][0]
    assert [second[a:b] for a, b in sorted(inputs[1][1])] == ["He", "Dunmore", "his"]


def stance_of(enricher: Enricher) -> StanceModel:
    """The main classifier of the enricher's stance stage."""
    stage = enricher.stage("stance")
    assert isinstance(stage, StanceStage)
    return stage.model_for(behind=False)[1]


def test_the_stance_model_setting_chooses_the_classifier(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes((MODEL_DIR / "model.onnx").read_bytes())
    (tmp_path / "tokenizer.json").write_bytes(tokenizer_file(MODEL_DIR).read_bytes())
    chosen = Enricher(Settings(stance_model=str(tmp_path)))
    assert stance_of(chosen) is load_model(tmp_path)
    assert stance_of(chosen) is not load_model(MODEL_DIR)
    assert stance_of(Enricher(Settings())) is load_model(MODEL_DIR)
    assert stance_of(Enricher(Settings(stance_model="fast"))) is load_model(FAST_MODEL_DIR)
    assert stance_of(Enricher(Settings(stance_model="lite"))) is load_model(LITE_MODEL_DIR)
    with pytest.raises(Exception, match=r"model\.onnx"):
        Enricher(Settings(stance_model=str(tmp_path / "missing")))


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_every_shipped_stance_model_loads_with_the_shared_tokenizer(name: str) -> None:
    directory = model_dir(name)
    assert not (directory / "tokenizer.json").exists()  # stored once, in data/tokenizers/
    assert tokenizer_file(directory) == TOKENIZERS_DIR / "minilm.json"
    body = "Anna Keller praised the brave firefighters of Dunmore."
    start = body.index("firefighters")
    target = [(start, start + len("firefighters"))]
    (probabilities,) = load_model(directory).probabilities([body], [target])
    assert probabilities.shape == (1, 3)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    assert probabilities[0].argmax() == 2  # positive


def test_a_model_directory_of_ones_own_uses_its_own_tokenizer(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text("{}", encoding="utf-8")
    assert tokenizer_file(tmp_path) == tmp_path / "tokenizer.json"


def test_a_stance_model_directory_without_its_files_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes((MODEL_DIR / "model.onnx").read_bytes())
    with pytest.raises(ValueError, match=r"tokenizer\.json"):
        model_dir(str(tmp_path))
    assert model_dir("fast") == FAST_MODEL_DIR
    assert model_dir("lite") == LITE_MODEL_DIR


def test_the_speaker_of_a_quote_holds_the_stance_not_about_themselves() -> None:
    body = (
        "\u201cTom Hale betrayed this town and Anna Keller will never forgive him,\u201d "
        "Anna Keller said on Monday."
    )
    hale = entity(body, "local:tom-hale", "Tom Hale", PER)
    keller = entity(body, "local:anna-keller", "Anna Keller", PER)
    said = quote(body, "Tom Hale betrayed this town and Anna Keller will never forgive him", keller)
    (_, stances) = analyse_stance([(body, [hale, keller], [said])], NEGATIVE)[0]
    by = {(s.holder_id, s.target_id): s for s in stances}
    held = by[("local:anna-keller", "local:tom-hale")]
    assert (held.holder, held.polarity) == ("Anna Keller", -1)
    # the evidence is her words, not the whole sentence with the attribution
    assert [(e.start, e.end) for e in held.evidence] == [(said.start, said.end)]
    # Keller inside her own quote is not a stance of hers; outside it, the author's
    assert ("local:anna-keller", "local:anna-keller") not in by
    assert (None, "local:anna-keller") in by


def test_who_calls_accuses_or_praises_holds_the_stance_towards_what_follows() -> None:
    body = (
        "Anna Keller accused Tom Hale of lying, the Dunmore Herald reported. "
        "Hale resigned on Friday evening."
    )
    keller = entity(body, "local:anna-keller", "Anna Keller", PER)
    hale = entity(body, "local:tom-hale", "Tom Hale", PER, "Hale")
    herald = entity(body, "local:herald", "Dunmore Herald", EntityType.ORG)
    report = quote(body, "Anna Keller accused Tom Hale of lying", herald)
    (_, stances) = analyse_stance([(body, [keller, hale, herald], [report])], NEGATIVE)[0]
    pairs = {(s.holder_id, s.target_id) for s in stances}
    # inside the Herald's report, Keller holds the stance towards Hale; her own mention comes
    # before her verb, so it stays the Herald's; the Herald itself, outside its report, and the
    # next sentence are the author's
    assert pairs == {
        ("local:anna-keller", "local:tom-hale"),
        ("local:herald", "local:anna-keller"),
        (None, "local:tom-hale"),
        (None, "local:herald"),
    }


def test_an_unattributed_quote_holds_no_stance() -> None:
    body = "Residents shouted \u201cTom Hale is a disgrace to this city\u201d outside the hall."
    hale = entity(body, "local:tom-hale", "Tom Hale", PER)
    shouted = quote(body, "Tom Hale is a disgrace to this city", None)
    (entities, stances) = analyse_stance([(body, [hale], [shouted])], NEGATIVE)[0]
    assert entities[0].sentiment == -0.88
    assert stances == []


def test_neutral_mentions_make_no_stance_and_articles_are_scored_together() -> None:
    first = "Tom Hale will travel to Dunmore on Tuesday for the meeting."
    second = "Anna Keller opened the new library in Leeds on Saturday morning."
    hale = entity(first, "local:tom-hale", "Tom Hale", PER)
    keller = entity(second, "local:anna-keller", "Anna Keller", PER)
    model = FixedModel([0.1, 0.8, 0.1])
    results = analyse_stance([(first, [hale], []), (second, [keller], [])], model)
    assert [r[1] for r in results] == [[], []]
    assert [r[0][0].sentiment for r in results] == [0.0, 0.0]
    assert model.seen == [first, second]


# -- through the enricher -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference() -> EnrichedEvent:
    record = RawRecord(value=REFERENCE.read_bytes(), origin=REFERENCE.name)
    (event,) = Enricher(Settings()).process([record])
    assert isinstance(event, EnrichedEvent)
    return event


def test_reference_article_putin_is_negative_towards_the_united_states(
    reference: EnrichedEvent,
) -> None:
    held = [s for s in reference.stances if (s.holder_id, s.target_id) == ("Q7747", "Q30")]
    assert [s.polarity for s in held] == [-1]
    (stance,) = held
    assert stance.holder == "Vladimir Putin"
    evidence = [reference.body[e.start : e.end] for e in stance.evidence]
    assert any("U.S." in text for text in evidence)


def test_reference_article_the_white_house_spokesman_is_negative_towards_russia(
    reference: EnrichedEvent,
) -> None:
    held = [
        s
        for s in reference.stances
        if (s.holder_id, s.target_id) == ("mm:person:josh-earnest", "Q159")
    ]
    assert [s.polarity for s in held] == [-1]
    evidence = [reference.body[e.start : e.end] for e in held[0].evidence]
    assert any("as long as Russia is not willing" in text for text in evidence)


def test_reference_article_every_mention_has_a_sentiment_and_he_is_putin(
    reference: EnrichedEvent,
) -> None:
    for e in reference.entities:
        assert e.sentiment is not None
        for m in e.mentions:
            assert m.sentiment is not None
            assert -1.0 <= m.sentiment <= 1.0
            assert reference.body[m.start : m.end] == m.text
    putin = next(e for e in reference.entities if e.id == "Q7747")
    assert {"he", "He"} <= {m.text for m in putin.mentions}


def test_a_stance_failure_leaves_the_article_enriched_without_stance(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = analyse_stance

    def fragile(
        articles: Sequence[tuple[str, Sequence[Entity], Sequence[Quote]]],
        model: StanceModel,
        kb: KnowledgeBase,
    ) -> object:
        if any("Hale" in body for body, _, _ in articles):
            raise RuntimeError("model failure")
        return real(articles, model, kb)

    monkeypatch.setattr("pipeline.stages.attribution.stance.analyse_stance", fragile)
    records = [
        RawRecord(value=f'{{"body": "{body}"}}'.encode(), origin=f"{n}.json")
        for n, body in enumerate(
            (
                "Critics in Dunmore attacked Tom Hale over the failed bridge on Monday.",
                "Voters in Leeds cheered Anna Keller after her landslide win on Sunday.",
            )
        )
    ]
    events = Enricher(Settings()).process(records)
    assert all(isinstance(e, EnrichedEvent) and e.enriched for e in events)
    failed, scored = events
    assert isinstance(failed, EnrichedEvent)
    assert isinstance(scored, EnrichedEvent)
    assert failed.entities
    assert all(e.sentiment is None for e in failed.entities)
    assert failed.stances == []
    assert all(e.sentiment is not None for e in scored.entities)
    assert "stance stage failed on 0.json" in caplog.text


def test_inference_calls_pad_little_and_keep_every_window_in_order() -> None:
    lengths = sorted([3, 4, 4, 5, 9, 10, 11, 12, 30, 31, 96] + [20] * 40)
    calls = list(chunks(lengths, key=lambda n: n))
    assert [n for call in calls for n in call] == lengths
    assert all(len(call) <= BATCH for call in calls)
    assert all(call[-1] <= PADDING * call[0] for call in calls)
    assert calls[:2] == [[3], [4, 4, 5]]  # 4 would pad 3 by more than PADDING allows
