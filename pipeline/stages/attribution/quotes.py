"""The quotations stage: direct quotes (between quotation marks) and reported speech, each with
its cue and its speaker resolved to an entity of the article.

Pure rules over the body and the entities stage's output, no model: quotation marks are paired
per paragraph (straight, curly and guillemets; a paragraph that opens a quote without closing it
continues into the next paragraph that opens with a mark), sentences are split outside quotes,
and each sentence's text outside the marks (its *frame*) is searched for a verb of saying with
its subject (``X said``, ``said X``, ``X told reporters that``, ``according to X``). Pronoun and
title speakers ("he added", "the spokesman said") are resolved to the nearest preceding
compatible person entity.

:func:`find_attributions` returns :class:`Attribution` objects (quote segments, the speaker's
span in the text, a group id shared by the parts of a split or multi-paragraph quote);
:func:`find_quotes` returns the event's :class:`~pipeline.models.Quote` list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.models import Entity, Quote
from pipeline.resources.kb import KnowledgeBase, default_kb
from pipeline.stages.attribution.cues import (
    AFTER_CUE,
    DIRECT_ONLY,
    PP_THAT,
    PRONOUNS,
    THAT,
    find_cues,
    skip_object,
    strip_trailing_attribution,
)
from pipeline.stages.attribution.foreign import LANGUAGES as FOREIGN
from pipeline.stages.attribution.foreign import find_foreign_quotes
from pipeline.stages.attribution.marks import (
    Mark,
    find_paragraphs,
    first_char,
    nonempty,
    nwords,
    pair_marks,
    quote_only,
    split_sentences,
    strip_span,
    trim_end,
)
from pipeline.stages.attribution.speakers import Speaker, SpeakerFinder
from pipeline.stages.base import ArticleRecord, BatchContext, Stage

__all__ = ["Attribution", "attribute", "find_attributions", "find_quotes", "quotes_of"]


@dataclass(frozen=True, slots=True)
class Attribution:
    """A quote segment with its attribution; the parts of one quote share ``group``."""

    start: int
    end: int
    direct: bool
    cue: str | None
    speaker_start: int | None
    speaker_end: int | None
    speaker: str | None
    speaker_id: str | None
    group: int


def find_quotes(
    body: str, entities: Sequence[Entity], *, kb: KnowledgeBase | None = None
) -> list[Quote]:
    """The quotations of ``body`` with speakers among ``entities`` (the entities stage's
    output for the same body)."""
    return quotes_of(body, find_attributions(body, entities, kb=kb))


def quotes_of(body: str, attributions: Sequence[Attribution]) -> list[Quote]:
    """The published form of ``attributions``."""
    return [
        Quote(
            start=a.start,
            end=a.end,
            text=body[a.start : a.end],
            speaker=a.speaker,
            speaker_id=a.speaker_id,
            cue=a.cue,
            direct=a.direct,
        )
        for a in attributions
    ]


def find_attributions(
    body: str, entities: Sequence[Entity], *, kb: KnowledgeBase | None = None
) -> list[Attribution]:
    """Quote segments with cue, speaker span and speaker entity, in body order."""
    return attribute(body, entities, kb=kb)[0]


def attribute(
    body: str, entities: Sequence[Entity], *, kb: KnowledgeBase | None = None
) -> tuple[list[Attribution], list[Entity]]:
    """:func:`find_attributions`, and ``entities`` with the speakers' phrases ("he", "the
    spokesman", a surname the recogniser missed) as mentions of the speakers' entities,
    followed by the speakers the recogniser missed as new entities: every ``speaker_id`` is
    the id of one of them."""
    finder = _Finder(body, entities, kb if kb is not None else default_kb())
    return finder.run(), finder.found_entities()


class _Finder(SpeakerFinder):
    def __init__(self, body: str, entities: Sequence[Entity], kb: KnowledgeBase) -> None:
        super().__init__(body, entities, kb)
        self.out: list[Attribution] = []
        self.group = 0

    # -- driver -------------------------------------------------------------------------------
    def run(self) -> list[Attribution]:
        body = self.body
        previous_group: tuple[int, Speaker | None, str | None] | None = None
        pending_colon: tuple[Speaker | None, str] | None = None
        open_quote = False
        spoken_before: tuple[int, Speaker | None, str | None] | None = None
        for p_start, p_end in find_paragraphs(body):
            marks = pair_marks(body, p_start, p_end)
            if marks and open_quote and marks[0].start - 2 <= first_char(body, p_start):
                marks[0].continued = True
            open_quote = bool(marks) and marks[-1].open_ended
            sentences = split_sentences(body, p_start, p_end, marks)
            last_attributed: tuple[int, Speaker | None, str | None] | None = None
            for index, (s_start, s_end) in enumerate(sentences):
                in_sentence = [m for m in marks if s_start <= m.start and m.end <= s_end]
                result = self._sentence(s_start, s_end, in_sentence)
                if result is not None:
                    last_attributed = result
                    continue
                quotes = [m for m in in_sentence if nwords(body, m.start, m.end) > 0]
                if not quotes or not quote_only(body, s_start, s_end, quotes):
                    continue
                # A sentence that is only a quote: the continuation of a quote in this
                # paragraph or the previous one, or introduced by a colon.
                source: tuple[int, Speaker | None, str | None] | None = None
                if last_attributed is not None:
                    source = last_attributed
                elif quotes[0].continued and previous_group is not None:
                    source = previous_group
                elif pending_colon is not None:
                    self.group += 1
                    source = (self.group, pending_colon[0], pending_colon[1])
                elif (after := self._attributed_after(sentences[index + 1 :])) is not None:
                    self.group += 1  # '"No." Lee said.', split after the quote
                    source = (self.group, after[0], after[1])
                elif spoken_before is not None:
                    # a paragraph of quotes after 'Lee said, "...".': Lee's words go on
                    source = spoken_before
                if source is None:
                    self.group += 1
                    source = (self.group, None, None)
                for m in quotes:
                    self._emit(m.start, m.end, True, source[2], source[1], source[0])
                last_attributed = source
            pending_colon = None
            spoken_before = None
            if last_attributed is not None and any(
                a.direct and a.group == last_attributed[0] for a in self.out[-3:]
            ):
                spoken_before = last_attributed
            if last_attributed is not None:
                previous_group = last_attributed
            elif not marks:
                previous_group = None
            colon = self._colon_intro(p_start, p_end)
            if colon is not None:
                pending_colon = colon
        self.out.sort(key=lambda a: a.start)
        return self.out

    def _attributed_after(
        self, rest: Sequence[tuple[int, int]]
    ) -> tuple[Speaker | None, str] | None:
        """The speaker and cue of a quote that a sentence of its own attributes after it
        ("Lee said." or "said Lee, ..."), when the sentence splitter cut after the quote."""
        if not rest:
            return None
        s_start, s_end = rest[0]
        for cue_start, cue_end, lemma in find_cues(self.body, s_start, s_end):
            if lemma == "according to" or nwords(self.body, s_start, cue_start) > 4:
                return None
            speaker = self._left_speaker(s_start, cue_start) or (
                self._right_speaker(cue_end, s_end, ()) if cue_start == s_start else None
            )
            return (self.complete(speaker), lemma) if speaker is not None else None
        return None

    def _colon_intro(self, p_start: int, p_end: int) -> tuple[Speaker | None, str] | None:
        text = self.body[p_start:p_end].rstrip()
        if not text.endswith(":"):
            return None
        for cue_start, cue_end, lemma in find_cues(self.body, p_start, p_start + len(text)):
            speaker = self._left_speaker(p_start, cue_start)
            if speaker is not None:
                return self.complete(speaker), lemma
            del cue_end
        return None

    # -- one sentence -----------------------------------------------------------------------
    def _sentence(
        self, s_start: int, s_end: int, marks: list[Mark]
    ) -> tuple[int, Speaker | None, str | None] | None:
        body = self.body
        inside = [(m.start - 1, m.end + 1) for m in marks]
        cues = [
            c for c in find_cues(body, s_start, s_end) if not any(a <= c[0] < b for a, b in inside)
        ]
        quotes = [m for m in marks if nwords(body, m.start, m.end) > 0]
        result = None
        taken: list[tuple[int, int]] = []
        for cue_start, cue_end, lemma in cues:
            if any(a <= cue_start < b for a, b in taken):
                continue
            before = len(self.out)
            found = self._attribution(s_start, s_end, cue_start, cue_end, lemma, quotes)
            if found is None:
                continue
            new = self.out[before:]
            if any(a < n.end and n.start < b for n in new for a, b in taken):
                # "X said A, the report said": keep the innermost attribution only
                del self.out[before:]
                continue
            result = result or found
            taken.extend((a.start, a.end) for a in self.out[before:])
            speaker = found[1]
            if speaker is not None:
                taken.append((min(speaker.start, cue_start), max(speaker.end, cue_end)))
            if any(a.direct for a in self.out[before:]):
                break
        return result

    def _attribution(
        self,
        s_start: int,
        s_end: int,
        cue_start: int,
        cue_end: int,
        lemma: str,
        quotes: list[Mark],
    ) -> tuple[int, Speaker | None, str | None] | None:
        body = self.body
        left = None
        if lemma != "according to":
            left = self._left_speaker(s_start, cue_start, quotes)
        right = None
        if left is not None and left.entity is None and body[left.end : cue_start].strip() == ",":
            # "The clinic opens in May, said Ted Marlow.": the clause is no speaker
            right = self._right_speaker(cue_end, s_end, quotes)
            left = None if right is not None else left
        elif left is None:
            right = self._right_speaker(cue_end, s_end, quotes)
        speaker = left or right
        if speaker is None:
            return None
        speaker = self.complete(speaker)
        cue = "according to" if lemma == "according to" else lemma
        # direct quotes next to the attribution
        big = [m for m in quotes if nwords(body, m.start, m.end) >= 1]
        if big:
            embedded = False
            if left is not None and lemma != "according to" and big[0].start > cue_end:
                pos = skip_object(body, cue_end, s_end) if lemma == "tell" else cue_end
                rest = AFTER_CUE.match(body, pos)
                pos = rest.end() if rest else pos
                gap = body[pos : big[0].start - 1]
                embedded = nwords(body, pos, big[0].start - 1) > 0 and not gap.rstrip().endswith(
                    (":", ",")
                )
            if not embedded and (
                any(nwords(body, m.start, m.end) >= 3 for m in big)
                or _adjacent(body, big, cue_start, cue_end, speaker)
            ):
                self.group += 1
                for m in big:
                    self._emit(m.start, m.end, True, cue, speaker, self.group)
                return self.group, speaker, cue
        if lemma in DIRECT_ONLY:
            return None
        span = self._indirect_content(s_start, s_end, cue_start, cue_end, lemma, speaker, left)
        if span is None:
            return None
        self.group += 1
        for a, b in span:
            self._emit(a, b, False, cue, speaker, self.group)
        return self.group, speaker, cue

    def _indirect_content(
        self,
        s_start: int,
        s_end: int,
        cue_start: int,
        cue_end: int,
        lemma: str,
        speaker: Speaker,
        left: Speaker | None,
    ) -> list[tuple[int, int]] | None:
        body = self.body
        end = trim_end(body, s_start, s_end)
        if lemma == "according to":
            if speaker.start <= s_start + 30 and cue_start - s_start < 5:
                comma = body.find(",", speaker.end, end)
                if comma < 0:
                    return None
                return nonempty(
                    body, [(comma + 1, strip_trailing_attribution(body, comma + 1, end))]
                )
            before = body.rfind(",", s_start, cue_start + 1)
            tail = body.find(",", speaker.end, end)
            parts = [(s_start, before if before >= 0 else cue_start)]
            if tail >= 0 and not re.match(r"\s*(?:which|who|where|when|and)\b", body[tail + 1 :]):
                parts.append((tail + 1, strip_trailing_attribution(body, tail + 1, end)))
            return nonempty(body, parts)
        if left is not None:
            # "X said (Tuesday) (that) CLAUSE" or "CLAUSE, X said."
            pre = body[s_start : speaker.start].rstrip()
            tail_words = nwords(body, cue_end, end)
            if pre.endswith(",") and tail_words <= 6 and nwords(body, s_start, speaker.start) >= 3:
                return nonempty(body, [(s_start, s_start + len(pre) - 1)])
            if nwords(body, s_start, speaker.start) > 6 and not pre.endswith(","):
                pass
            pos = cue_end
            if lemma == "tell":
                pos = skip_object(body, pos, end)
            rest = AFTER_CUE.match(body, pos)
            if rest is not None:
                pos = rest.end()
            that = THAT.match(body, pos) or PP_THAT.match(body, pos, end)
            if that is not None:
                pos = that.end()
            elif lemma not in ("say", "tell", "add", "write", "note", "warn", "claim", "insist"):
                return None
            if pos >= end or body[pos] in ",.;:":
                return None
            content_end = strip_trailing_attribution(body, pos, end)
            return nonempty(body, [(pos, content_end)])
        # inverted: "CLAUSE, said X."
        pre = body[s_start:cue_start].rstrip()
        if pre.endswith(","):
            return nonempty(body, [(s_start, s_start + len(pre) - 1)])
        return None

    def _emit(
        self,
        start: int,
        end: int,
        direct: bool,
        cue: str | None,
        speaker: Speaker | None,
        group: int,
    ) -> None:
        start, end = strip_span(self.body, start, end)
        if end <= start:
            return
        entity = speaker.entity if speaker is not None else None
        name = entity.name if entity is not None else None
        if speaker is not None:
            self.spoke(speaker)
            phrase = self.body[speaker.start : speaker.end]
            if entity is None and phrase.lower() not in PRONOUNS:
                name = phrase  # "a source", "the announcer": a speaker that is no entity
        self.out.append(
            Attribution(
                start=start,
                end=end,
                direct=direct,
                cue=cue,
                speaker_start=speaker.start if speaker is not None else None,
                speaker_end=speaker.end if speaker is not None else None,
                speaker=name,
                speaker_id=entity.id if entity is not None else None,
                group=group,
            )
        )


def _adjacent(body: str, marks: list[Mark], cue_start: int, cue_end: int, speaker: Speaker) -> bool:
    """Whether a quote directly touches its attribution (``"No," he said`` or ``said: "No"``)."""
    lo = min(cue_start, speaker.start)
    hi = max(cue_end, speaker.end)
    for m in marks:
        gap_after = body[m.end + 1 : lo]
        gap_before = body[hi : m.start - 1]
        if (m.end <= lo and len(gap_after.strip(" ,.!?—\u2013-")) == 0) or (
            m.start >= hi and len(gap_before.strip(" ,:")) == 0
        ):
            return True
    return False


class QuotesStage(Stage):
    """The ``quotes`` stage: each article's quotations with their speakers among its entities
    (English, and the direct quotations of :data:`~pipeline.stages.attribution.foreign.
    LANGUAGES`). An article it fails on goes on without quotations."""

    name = "quotes"
    reads = ("entities",)
    writes = ("quotes", "entities")

    def __init__(self, kb: KnowledgeBase, languages: frozenset[str] | None = None) -> None:
        super().__init__(languages)
        self.kb = kb

    def attribute(
        self, body: str, entities: Sequence[Entity]
    ) -> tuple[list[Attribution], list[Entity]]:
        """One article's attributions and entities (what :meth:`run` publishes)."""
        return attribute(body, entities, kb=self.kb)

    def variant(self, language: str | None) -> str:
        """English's rules, or the verbs of saying of another language
        (:mod:`pipeline.stages.attribution.foreign`)."""
        return language if language in FOREIGN else "en"

    def run(self, records: Sequence[ArticleRecord], batch: BatchContext) -> None:
        for record in records:
            body = record.article.body
            if record.language in FOREIGN:
                found = find_foreign_quotes(body, record.entities or [], record.language or "")
                record.quotes = found
                continue
            attributions, record.entities = self.attribute(body, record.entities or [])
            record.quotes = quotes_of(body, attributions)
