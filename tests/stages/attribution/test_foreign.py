"""Direct quotations in other languages (``pipeline.stages.attribution.foreign``): the marks
of each language, its verbs of saying, and the speaker named next to the verb."""

from __future__ import annotations

import pytest

from pipeline.models import Entity, EntityType, Mention
from pipeline.stages.attribution.foreign import find_foreign_quotes

PER, ORG = EntityType.PER, EntityType.ORG


def entity(body: str, name: str, kind: EntityType, *texts: str) -> Entity:
    """An entity with a mention at every occurrence of each of ``texts`` in ``body``."""
    mentions = []
    for text in texts or (name,):
        at = body.find(text)
        while at >= 0:
            mentions.append(Mention(start=at, end=at + len(text), text=text, type=kind))
            at = body.find(text, at + 1)
    return Entity(id=f"local:{name}", name=name, type=kind, salience=0.5, mentions=mentions)


@pytest.mark.parametrize(
    ("language", "body", "speaker", "quoted", "cue"),
    [
        (
            "es",
            "La alcaldesa Rosa Vidal visitó el mercado. «Vamos a abrir más puestos este año», "
            "dijo Vidal a los vecinos.",
            "Rosa Vidal",
            "Vamos a abrir más puestos este año",
            "say",
        ),
        (
            "fr",
            "« Nous ne fermerons aucune école cette année », a déclaré Paul Girard devant le "
            "conseil municipal.",
            "Paul Girard",
            "Nous ne fermerons aucune école cette année",
            "declare",
        ),
        (
            "de",
            "„Die Brücke wird im Sommer fertig“, sagte der Baudezernent Jan Kowalke am Montag.",
            "Jan Kowalke",
            "Die Brücke wird im Sommer fertig",
            "say",
        ),
        (
            "ru",
            "«Мы продолжим переговоры на следующей неделе», — заявил министр Игорь Петров.",
            "Игорь Петров",
            "Мы продолжим переговоры на следующей неделе",
            "declare",
        ),
        (
            "de",
            "Die Stadtwerke Nordheim erklärten: „Die Preise bleiben bis Dezember stabil.“",
            "Stadtwerke Nordheim",
            "Die Preise bleiben bis Dezember stabil.",
            "explain",
        ),
    ],
)
def test_a_quotation_gets_the_speaker_named_next_to_the_verb(
    language: str, body: str, speaker: str, quoted: str, cue: str
) -> None:
    people = [
        entity(
            body, speaker, ORG if "Stadtwerke" in speaker else PER, speaker, *speaker.split()[-1:]
        )
    ]
    (quote,) = find_foreign_quotes(body, people, language)
    assert (quote.text, quote.speaker, quote.cue, quote.direct) == (quoted, speaker, cue, True)
    assert body[quote.start : quote.end] == quote.text
    assert quote.speaker_id == people[0].id


def test_with_no_one_named_at_the_verb_the_last_person_named_before_speaks() -> None:
    body = (
        "La ministre Claire Dubois a visité l'usine. Elle a rencontré les salariés. "
        "« Le site restera ouvert », a-t-elle ajouté."
    )
    (quote,) = find_foreign_quotes(body, [entity(body, "Claire Dubois", PER)], "fr")
    assert quote.speaker == "Claire Dubois"
    assert quote.cue == "add"


def test_marks_without_a_verb_of_saying_are_no_quotation() -> None:
    body = "Der Film „Das letzte Jahr im Hafen“ läuft ab Donnerstag in den Kinos der Stadt."
    assert find_foreign_quotes(body, [], "de") == []


def test_a_verb_inside_the_quotation_is_not_its_cue() -> None:
    body = "«Ella dijo que no vendría nunca más a la ciudad», escribe el autor en su novela."
    assert find_foreign_quotes(body, [], "es") == []


def test_a_language_without_verbs_gets_no_quotations() -> None:
    body = "«Bu yıl yeni okullar açacağız», dedi Belediye Başkanı Ali Demir."
    assert find_foreign_quotes(body, [entity(body, "Ali Demir", PER)], "tr") == []
