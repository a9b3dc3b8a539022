"""Direct quotations in languages other than English, with their speakers.

The English rules (:mod:`pipeline.stages.attribution.quotes`) read English grammar; in the
other languages the stage finds what news writes everywhere alike: a quotation between marks
(« », „ “, “ ”, 「 」, straight ones; :func:`~pipeline.stages.attribution.marks.pair_marks`)
next to a verb of saying of the language (:data:`VERBS`: "dijo", "a déclaré", "sagte",
"заявил", ...) in the same sentence. The speaker is the person (else the organisation) named
next to the verb in that sentence ("», dijo Soler", "„…“, sagte die Bürgermeisterin Katrin
Albers", "Lavrov erklärte: „…“"); with no one named there ("», a-t-il ajouté"), the person
named last before the quotation. Reported speech without marks is not read. ``cue`` is the
verb's English lemma, as in English events.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.models import Entity, EntityType, Mention, Quote
from pipeline.stages.attribution.marks import (
    Mark,
    find_paragraphs,
    nwords,
    pair_marks,
    split_sentences,
    strip_span,
)

__all__ = ["LANGUAGES", "VERBS", "find_foreign_quotes"]

VERBS: dict[str, dict[str, str]] = {
    "de": {
        "sagte": "say", "sagt": "say", "sagten": "say", "so": "say", "erklärte": "explain",
        "erklärt": "explain", "betonte": "stress", "betont": "stress", "meinte": "say",
        "fügte": "add", "ergänzte": "add", "warnte": "warn", "kritisierte": "say",
        "teilte": "state", "sagen": "say", "erklärten": "explain", "schrieb": "write",
    },
    "es": {
        "dijo": "say", "dice": "say", "afirmó": "claim", "afirma": "claim", "declaró": "declare",
        "señaló": "note", "explicó": "explain", "aseguró": "insist", "añadió": "add",
        "indicó": "state", "sostuvo": "maintain", "advirtió": "warn", "manifestó": "state",
        "comentó": "say", "subrayó": "stress", "destacó": "stress", "según": "according to",
    },
    "fr": {
        "déclaré": "declare", "dit": "say", "affirmé": "claim", "expliqué": "explain",
        "ajouté": "add", "souligné": "stress", "estimé": "say", "indiqué": "state",
        "assuré": "insist", "déclare": "declare", "affirme": "claim", "explique": "explain",
        "ajoute": "add", "souligne": "stress", "estime": "say", "selon": "according to",
        "prévenu": "warn", "averti": "warn",
    },
    "it": {
        "detto": "say", "dichiarato": "declare", "affermato": "claim", "spiegato": "explain",
        "aggiunto": "add", "sottolineato": "stress", "dice": "say", "afferma": "claim",
        "spiega": "explain", "aggiunge": "add", "secondo": "according to",
    },
    "pt": {
        "disse": "say", "afirmou": "claim", "declarou": "declare", "explicou": "explain",
        "acrescentou": "add", "sublinhou": "stress", "diz": "say", "afirma": "claim",
        "segundo": "according to", "garantiu": "insist", "alertou": "warn",
    },
    "nl": {
        "zei": "say", "zegt": "say", "verklaarde": "declare", "aldus": "say", "stelde": "state",
        "voegde": "add", "benadrukte": "stress", "waarschuwde": "warn", "volgens": "according to",
    },
    "pl": {
        "powiedział": "say", "powiedziała": "say", "stwierdził": "state", "stwierdziła": "state",
        "oświadczył": "declare", "oświadczyła": "declare", "dodał": "add", "dodała": "add",
        "podkreślił": "stress", "podkreśliła": "stress", "mówi": "say", "według": "according to",
    },
    "ru": {
        "заявил": "declare", "заявила": "declare", "сказал": "say", "сказала": "say",
        "отметил": "note", "отметила": "note", "подчеркнул": "stress", "подчеркнула": "stress",
        "добавил": "add", "добавила": "add", "сообщил": "state", "сообщила": "state",
        "пояснил": "explain", "пояснила": "explain", "словам": "according to",
    },
    "uk": {
        "заявив": "declare", "заявила": "declare", "сказав": "say", "сказала": "say",
        "зазначив": "note", "зазначила": "note", "додав": "add", "додала": "add",
        "словами": "according to",
    },
}  # fmt: skip
"""Per language, verb forms of saying (the inflected word a news sentence uses next to a
quotation; a compound tense's participle, "a déclaré", "ha detto") and their English lemma."""
LANGUAGES = frozenset(VERBS)
_WORD = re.compile(r"\w+")
_MIN_WORDS = 3


def find_foreign_quotes(body: str, entities: Sequence[Entity], language: str) -> list[Quote]:
    """The direct quotations of ``body`` (in ``language``, one of :data:`LANGUAGES`) that a
    verb of saying introduces, each with its speaker among ``entities`` where one is found."""
    verbs = VERBS.get(language, {})
    mentions = sorted(
        (
            (m, e)
            for e in entities
            for m in e.mentions
            if e.type in (EntityType.PER, EntityType.ORG)
        ),
        key=lambda pair: pair[0].start,
    )
    quotes: list[Quote] = []
    for paragraph in find_paragraphs(body):
        marks = pair_marks(body, *paragraph)
        for start, end in split_sentences(body, *paragraph, marks):
            inside = [m for m in marks if start <= m.start and m.end <= end]
            for mark in inside:
                if nwords(body, mark.start, mark.end) < _MIN_WORDS:
                    continue
                cue = _cue(body, start, end, inside, verbs)
                if cue is None:
                    continue
                lemma, at = cue
                speaker = _speaker(mentions, start, end, at, mark.start, inside)
                a, b = strip_span(body, mark.start, mark.end)  # « with spaces inside »
                quotes.append(
                    Quote(
                        start=a,
                        end=b,
                        text=body[a:b],
                        speaker=speaker.name if speaker else None,
                        speaker_id=speaker.id if speaker else None,
                        cue=lemma,
                        direct=True,
                    )
                )
    return quotes


def _outside(position: int, marks: Sequence[Mark]) -> bool:
    return not any(m.start <= position < m.end for m in marks)


def _cue(
    body: str, start: int, end: int, marks: Sequence[Mark], verbs: dict[str, str]
) -> tuple[str, int] | None:
    """The first verb of saying of the sentence outside its quotations, and where it is."""
    for word in _WORD.finditer(body, start, end):
        lemma = verbs.get(word.group().lower())
        if lemma is not None and _outside(word.start(), marks):
            return lemma, word.start()
    return None


def _speaker(
    mentions: Sequence[tuple[Mention, Entity]],
    start: int,
    end: int,
    cue: int,
    quote: int,
    marks: Sequence[Mark],
) -> Entity | None:
    """The entity named nearest the cue in the sentence, outside the quotations, a person
    before an organisation; else the person named last before the quotation."""
    here = [
        (m, e)
        for m, e in mentions
        if start <= m.start and m.end <= end and _outside(m.start, marks)
    ]
    for kind in (EntityType.PER, EntityType.ORG):
        near = [(abs(m.start - cue), e) for m, e in here if e.type is kind]
        if near:
            return min(near, key=lambda pair: pair[0])[1]
    before = [e for m, e in mentions if m.end <= quote and e.type is EntityType.PER]
    return before[-1] if before else None
