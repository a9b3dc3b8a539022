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
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.models import Entity, EntityType, Quote
from pipeline.resources.kb import KnowledgeBase, default_kb
from pipeline.stages.attribution.cues import (
    AFTER_CUE,
    DETERMINERS,
    DIRECT_ONLY,
    NP_STOP,
    PP_THAT,
    PRONOUNS,
    SKIP_BEFORE_CUE,
    THAT,
    TOKEN,
    find_cues,
    skip_object,
    strip_trailing_attribution,
)
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
from pipeline.text.titles import TitleResolver

__all__ = ["Attribution", "find_attributions", "find_quotes"]


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


@dataclass(slots=True)
class _Speaker:
    start: int
    end: int
    entity: Entity | None


def find_quotes(
    body: str, entities: Sequence[Entity], *, kb: KnowledgeBase | None = None
) -> list[Quote]:
    """The quotations of ``body`` with speakers among ``entities`` (the entities stage's
    output for the same body)."""
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
        for a in find_attributions(body, entities, kb=kb)
    ]


def find_attributions(
    body: str, entities: Sequence[Entity], *, kb: KnowledgeBase | None = None
) -> list[Attribution]:
    """Quote segments with cue, speaker span and speaker entity, in body order."""
    return _Finder(body, entities, kb if kb is not None else default_kb()).run()


class _Finder:
    def __init__(self, body: str, entities: Sequence[Entity], kb: KnowledgeBase) -> None:
        self.body = body
        spans = [(m.start, m.end, e) for e in entities for m in e.mentions]
        spans.sort(key=lambda s: (s[0], -s[1]))
        self.mentions = spans
        self.mention_starts = [s[0] for s in spans]
        self.titles = TitleResolver(body, spans, kb)
        self.out: list[Attribution] = []
        self.group = 0

    # -- driver -------------------------------------------------------------------------------
    def run(self) -> list[Attribution]:
        body = self.body
        previous_group: tuple[int, _Speaker | None, str | None] | None = None
        pending_colon: tuple[_Speaker | None, str] | None = None
        open_quote = False
        for p_start, p_end in find_paragraphs(body):
            marks = pair_marks(body, p_start, p_end)
            if marks and open_quote and marks[0].start - 2 <= first_char(body, p_start):
                marks[0].continued = True
            open_quote = bool(marks) and marks[-1].open_ended
            sentences = split_sentences(body, p_start, p_end, marks)
            last_attributed: tuple[int, _Speaker | None, str | None] | None = None
            for s_start, s_end in sentences:
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
                source: tuple[int, _Speaker | None, str | None] | None = None
                if last_attributed is not None:
                    source = last_attributed
                elif quotes[0].continued and previous_group is not None:
                    source = previous_group
                elif pending_colon is not None:
                    self.group += 1
                    source = (self.group, pending_colon[0], pending_colon[1])
                if source is None:
                    self.group += 1
                    source = (self.group, None, None)
                for m in quotes:
                    self._emit(m.start, m.end, True, source[2], source[1], source[0])
                last_attributed = source
            pending_colon = None
            if last_attributed is not None:
                previous_group = last_attributed
            elif not marks:
                previous_group = None
            colon = self._colon_intro(p_start, p_end)
            if colon is not None:
                pending_colon = colon
        self.out.sort(key=lambda a: a.start)
        return self.out

    def _colon_intro(self, p_start: int, p_end: int) -> tuple[_Speaker | None, str] | None:
        text = self.body[p_start:p_end].rstrip()
        if not text.endswith(":"):
            return None
        for cue_start, cue_end, lemma in find_cues(self.body, p_start, p_start + len(text)):
            speaker = self._left_speaker(p_start, cue_start)
            if speaker is not None:
                return speaker, lemma
            del cue_end
        return None

    # -- one sentence -----------------------------------------------------------------------
    def _sentence(
        self, s_start: int, s_end: int, marks: list[Mark]
    ) -> tuple[int, _Speaker | None, str | None] | None:
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
    ) -> tuple[int, _Speaker | None, str | None] | None:
        body = self.body
        left = None
        if lemma != "according to":
            left = self._left_speaker(s_start, cue_start, quotes)
        right = None
        if left is None:
            right = self._right_speaker(cue_end, s_end, quotes)
        speaker = left or right
        if speaker is None:
            return None
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
        speaker: _Speaker,
        left: _Speaker | None,
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

    # -- speakers -----------------------------------------------------------------------------
    def _left_speaker(
        self, s_start: int, cue_start: int, quotes: Sequence[Mark] = ()
    ) -> _Speaker | None:
        body = self.body
        tokens = [(m.start(), m.end()) for m in TOKEN.finditer(body, s_start, cue_start)]
        i = len(tokens) - 1
        while i >= 0 and body[tokens[i][0] : tokens[i][1]].lower() in SKIP_BEFORE_CUE:
            i -= 1
        if i < 0:
            return None
        a, b = tokens[i]
        if any(m.start <= a < m.end + 1 for m in quotes):
            return None
        word = body[a:b]
        if word == ")" and i > 0:
            k = body.rfind("(", s_start, a)
            if k > s_start:
                return self._left_speaker(s_start, k, quotes)
        if word.lower() == "who" and i > 0:
            return self._left_speaker(s_start, a, quotes)
        if word == "," and i > 0:
            return self._appositive_subject(s_start, a, quotes)
        if word.lower() == "and":
            return self._sentence_subject(s_start, a, quotes)
        if word.lower() in PRONOUNS:
            return _Speaker(a, b, self._resolve_pronoun(a, word.lower()))
        mention = self._mention_at(a, b)
        if mention is not None:
            return _Speaker(mention[0], mention[1], mention[2])
        # a noun phrase: walk left over words until a stop word or punctuation
        j = i
        start = a
        while j >= 0 and i - j < 6:
            w = body[tokens[j][0] : tokens[j][1]]
            if not (w[0].isalnum() or w in ("'", "\u2019")) or w.lower() in NP_STOP:
                break
            start = tokens[j][0]
            if w.lower() in DETERMINERS:
                break
            j -= 1
        head = body[a:b]
        if not head[0].isalpha() or head.lower() in DETERMINERS or head.lower() in NP_STOP:
            return None
        if head.endswith("ly") and head[0].islower():
            return None
        entity = self._entity_in(start, b) or self.titles.resolve(start, b)
        return _Speaker(start, b, entity)

    def _appositive_subject(
        self, s_start: int, comma: int, quotes: Sequence[Mark]
    ) -> _Speaker | None:
        """``X, a spokesman for Y, said``: a person (else organisation) mention in the two
        comma-delimited chunks before the cue, the chunks starting the sentence or a clause."""
        body = self.body
        if any(m.start <= comma <= m.end + 1 for m in quotes):
            return None
        lo = comma + 1
        for _ in range(2):
            k = body.rfind(",", s_start, lo - 1)
            lo = s_start if k < 0 else k + 1
            if k < 0:
                break
        for m in quotes:
            if m.start < comma and m.end >= lo:
                lo = max(lo, m.end + 1)
                while lo < comma and body[lo] in "'\"”»":
                    lo += 1
        if lo >= comma:
            return None
        found = [
            (m_start, m_end, e)
            for m_start, m_end, e in self.mentions
            if lo <= m_start and m_end <= comma and e.type in (EntityType.PER, EntityType.ORG)
        ]
        people = [f for f in found if f[2].type is EntityType.PER]
        if people:
            m_start, m_end, entity = people[0]
            return _Speaker(m_start, m_end, entity)
        first = body.find(",", lo, comma)
        head_end = first if first > 0 else comma
        head_start = lo
        while head_start < head_end and body[head_start].isspace():
            head_start += 1
        words = body[head_start:head_end].split()
        if not words or len(words) > 8 or not (words[0][0].isupper() or words[0] in DETERMINERS):
            return None
        orgs = [f for f in found if f[0] < head_end]
        return _Speaker(head_start, head_end, orgs[0][2] if orgs else None)

    def _sentence_subject(
        self, s_start: int, before: int, quotes: Sequence[Mark]
    ) -> _Speaker | None:
        """``X did this and says ...``: the subject at the start of the sentence."""
        body = self.body
        first = TOKEN.search(body, s_start, before)
        if first is None or any(m.start <= first.start() <= m.end + 1 for m in quotes):
            return None
        word = first.group()
        if word.lower() in PRONOUNS:
            resolved = self._resolve_pronoun(first.start(), word.lower())
            return _Speaker(first.start(), first.end(), resolved)
        window = min(before, first.start() + 25)
        for m_start, m_end, e in self.mentions:
            if m_start >= window:
                break
            if m_start >= first.start() and e.type in (EntityType.PER, EntityType.ORG):
                return _Speaker(m_start, m_end, e)
        return None

    def _right_speaker(self, cue_end: int, s_end: int, quotes: Sequence[Mark]) -> _Speaker | None:
        body = self.body
        stop = s_end
        for pattern in (",", ".", ";", "“", '"', "«", " who ", " in ", " on "):
            k = body.find(pattern, cue_end, stop)
            if k > cue_end:
                stop = k
        text = body[cue_end:stop]
        if not text.strip() or len(text.split()) > 8:
            return None
        if any(cue_end <= m.start < stop for m in quotes):
            return None
        start = cue_end + len(text) - len(text.lstrip())
        end = cue_end + len(text.rstrip())
        first = body[start:end].split()[0]
        if first.lower() in PRONOUNS:
            if len(body[start:end].split()) > 1:
                return None
            return _Speaker(start, start + len(first), self._resolve_pronoun(start, first.lower()))
        if first[0].islower() and first.lower() not in DETERMINERS:
            return None
        entity = self._entity_in(start, end) or self.titles.resolve(start, end)
        return _Speaker(start, end, entity)

    def _mention_at(self, a: int, b: int) -> tuple[int, int, Entity] | None:
        k = bisect_right(self.mention_starts, a) - 1
        while k >= 0 and self.mentions[k][1] > a - 200:
            m_start, m_end, entity = self.mentions[k]
            if m_start <= a < m_end and entity.type in (EntityType.PER, EntityType.ORG):
                return m_start, m_end, entity
            k -= 1
        return None

    def _entity_in(self, start: int, end: int) -> Entity | None:
        best: Entity | None = None
        for m_start, m_end, entity in self.mentions:
            if m_start >= end:
                break
            if m_end <= start:
                continue
            if entity.type is EntityType.PER or (
                entity.type is EntityType.ORG and (best is None or best.type is not EntityType.PER)
            ):
                best = entity
        return best

    def _resolve_pronoun(self, pos: int, pronoun: str) -> Entity | None:
        kind = PRONOUNS[pronoun]
        if kind == "ANY":
            return None
        wanted = EntityType.PER if kind == "PER" else EntityType.ORG
        k = bisect_right(self.mention_starts, pos) - 1
        while k >= 0:
            _m_start, m_end, entity = self.mentions[k]
            if m_end <= pos and entity.type is wanted:
                if wanted is EntityType.ORG and pos - m_end > 400:
                    return None
                return entity
            k -= 1
        return None

    def _emit(
        self,
        start: int,
        end: int,
        direct: bool,
        cue: str | None,
        speaker: _Speaker | None,
        group: int,
    ) -> None:
        start, end = strip_span(self.body, start, end)
        if end <= start:
            return
        entity = speaker.entity if speaker is not None else None
        self.out.append(
            Attribution(
                start=start,
                end=end,
                direct=direct,
                cue=cue,
                speaker_start=speaker.start if speaker is not None else None,
                speaker_end=speaker.end if speaker is not None else None,
                speaker=entity.name if entity is not None else None,
                speaker_id=entity.id if entity is not None else None,
                group=group,
            )
        )


def _adjacent(
    body: str, marks: list[Mark], cue_start: int, cue_end: int, speaker: _Speaker
) -> bool:
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
