"""Speakers of quotes: the subject next to a cue, pronouns and titles resolved to people,
names the recogniser missed made entities; the speakers' phrases become mentions."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.models import Entity, EntityType, Mention
from pipeline.resources.kb import KnowledgeBase
from pipeline.stages.attribution.cues import (
    DETERMINERS,
    NP_STOP,
    PRONOUNS,
    SKIP_BEFORE_CUE,
    TIME_BEFORE_CUE,
    TOKEN,
)
from pipeline.stages.attribution.marks import Mark, quoted_spans
from pipeline.stages.attribution.named import (
    local_id,
    name_type,
    org_of_phrase,
)
from pipeline.stages.attribution.pronouns import PronounResolver
from pipeline.text.sentences import is_abbreviation
from pipeline.text.titles import TITLES, TitleResolver

_POST_HEAD = re.compile(r"\s(?:of|from|at|in|for|with|who|whose|on)\s")
_SPEAKING = (EntityType.PER, EntityType.ORG)
_BEFORE_TITLE = frozenset(["former", "retired", "longtime", "veteran", "late", "then", "fellow"])
"""Words that may open a speaker after the cue: "said former Gov. Jo Lee"."""
_LEADING = frozenset(["the", "a", "an", "mr.", "mrs.", "ms.", "dr.", "mr", "mrs", "ms", "dr"])


@dataclass(slots=True)
class Speaker:
    start: int
    end: int
    entity: Entity | None


class SpeakerFinder:
    """Speakers next to a cue in ``body``: a mention of one of ``entities``, a pronoun or a
    title phrase resolved to the nearest fitting person before it, else a bare noun phrase."""

    def __init__(self, body: str, entities: Sequence[Entity], kb: KnowledgeBase) -> None:
        self.body = body
        self.entities = list(entities)
        spans = [(m.start, m.end, e) for e in entities for m in e.mentions]
        spans.sort(key=lambda s: (s[0], -s[1]))
        self.mentions = spans
        self.mention_starts = [s[0] for s in spans]
        self.titles = TitleResolver(body, spans, kb)
        self.pronouns = PronounResolver(body, spans, quoted_spans(body))
        self.previous: tuple[int, Entity] | None = None
        """Where the last speaker attributed spoke, and who it was."""
        self.added: dict[str, list[Mention]] = {}
        """Speakers' phrases ("he", "the spokesman") as new mentions, by entity id."""
        self.new: dict[str, Entity] = {}
        """Speakers the recogniser missed, by id."""

    def found_entities(self) -> list[Entity]:
        """The entities with the speakers' phrases among their mentions, and the new ones."""
        out = []
        for entity in self.entities:
            extra = self.added.get(entity.id)
            if extra:
                mentions = sorted([*entity.mentions, *extra], key=lambda m: m.start)
                entity = entity.model_copy(update={"mentions": mentions})
            out.append(entity)
        return out + [e for e in self.new.values() if e.mentions]

    def spoke(self, speaker: Speaker) -> None:
        """``speaker`` is attributed a quote: its phrase becomes a mention of its entity
        (unless it overlaps a mention the recogniser found; a new entity's name always does)
        and it is the last speaker."""
        entity = speaker.entity
        if entity is None:
            return
        self.previous = (speaker.start, entity)
        start, end = speaker.start, speaker.end
        if entity.id in self.new:
            known = self.new[entity.id].mentions
        else:
            k = bisect_right(self.mention_starts, end) - 1
            while k >= 0 and self.mentions[k][1] > start - 200:
                if self.mentions[k][0] < end and start < self.mentions[k][1]:
                    return
                k -= 1
            known = self.added.setdefault(entity.id, [])
        if any(m.start < end and start < m.end for m in known):
            return
        known.append(Mention(start=start, end=end, text=self.body[start:end], type=entity.type))
        known.sort(key=lambda m: m.start)

    def complete(self, speaker: Speaker) -> Speaker:
        """A speaker with no entity given one if it can be: "the ministry" the ministry
        named before it, a name the recogniser missed a new person (or, for an acronym,
        organisation) entity."""
        if speaker.entity is not None:
            return speaker
        start, end = speaker.start, speaker.end
        text = self.body[start:end]
        if text.lower() in PRONOUNS:
            return speaker
        org = org_of_phrase(self.body, start, end, self.mentions, self.mention_starts)
        if org is not None:
            return Speaker(start, end, org)
        words = list(TOKEN.finditer(self.body, start, end))
        while words and (
            words[0].group().lower() in _LEADING
            or words[0].group()[0].islower()
            or words[0].group().lower() in TITLES
        ):
            words.pop(0)
        if not words:
            return speaker
        start = words[0].start()
        for m_start, m_end, entity in self.mentions:
            if m_start > start:
                break
            if (m_start, m_end) == (start, end):  # a name the recogniser typed LOC or MISC
                return Speaker(start, end, entity)
        etype = name_type(self.body, start, end)
        if etype is None:
            return speaker
        return Speaker(start, end, self._named(start, end, etype))

    def _named(self, start: int, end: int, etype: EntityType) -> Entity:
        text = self.body[start:end]
        if etype is EntityType.PER and len(text.split()) == 1:
            for entity in [*self.entities, *self.new.values()]:
                if entity.type is EntityType.PER and entity.name.split()[-1] == text:
                    return entity  # "Cruz" of "Ted Cruz", a mention the recogniser missed
        entity_id = local_id(etype, text)
        for entity in self.entities:
            if entity.id == entity_id:
                return entity
        if entity_id not in self.new:
            self.new[entity_id] = Entity(
                id=entity_id, name=text, type=etype, salience=0.0, mentions=[]
            )
            if etype is EntityType.PER:
                self.pronouns.add(start, end, self.new[entity_id])
        return self.new[entity_id]

    # -- speakers -----------------------------------------------------------------------------
    def _left_speaker(
        self, s_start: int, cue_start: int, quotes: Sequence[Mark] = ()
    ) -> Speaker | None:
        body = self.body
        time = TIME_BEFORE_CUE.search(body, s_start, cue_start)
        if time is not None and time.start() > s_start:
            cue_start = time.start()
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
            return Speaker(a, b, self._resolve_pronoun(a, word.lower()))
        mention = self._mention_at(a, b)
        if mention is not None:
            return Speaker(mention[0], mention[1], mention[2])
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
        return self._phrase(start, b)

    def _appositive_subject(
        self, s_start: int, comma: int, quotes: Sequence[Mark]
    ) -> Speaker | None:
        """``X, a spokesman for Y, said``: a person (else organisation) mention in the two
        comma-delimited chunks before the cue, the chunks starting the sentence or a clause."""
        body = self.body
        if any(m.start <= comma <= m.end + 1 for m in quotes):
            return None
        subject = self._leading_name(s_start, comma, quotes)
        if subject is not None:
            return subject
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
            return Speaker(m_start, m_end, entity)
        first = body.find(",", lo, comma)
        head_end = first if first > 0 else comma
        head_start = lo
        while head_start < head_end and body[head_start].isspace():
            head_start += 1
        words = body[head_start:head_end].split()
        if not words or len(words) > 8 or not (words[0][0].isupper() or words[0] in DETERMINERS):
            return None
        orgs = [f for f in found if f[0] < head_end]
        return Speaker(head_start, head_end, orgs[0][2] if orgs else None)

    def _leading_name(self, s_start: int, comma: int, quotes: Sequence[Mark]) -> Speaker | None:
        """``Jo Lee, 67, a retired nurse in Leeds, Pa., said``: the person named by the
        sentence's first chunk (after a quote that opens it), however many chunks follow."""
        body = self.body
        lo = max([s_start, *(m.end + 1 for m in quotes if m.end < comma)])
        while lo < comma and (body[lo].isspace() or body[lo] in ",'\"”»"):
            lo += 1
        end = body.find(",", lo, comma)
        if end < 0:
            return None
        for m_start, m_end, entity in self.mentions:
            if m_start >= end:
                break
            lead = body[lo:m_start].split()
            if (
                m_start >= lo
                and m_end == end
                and entity.type is EntityType.PER
                and all(w[0].isupper() for w in lead)
            ):
                return Speaker(m_start, m_end, entity)
        return None

    def _sentence_subject(
        self, s_start: int, before: int, quotes: Sequence[Mark]
    ) -> Speaker | None:
        """``X did this and says ...``: the subject at the start of the sentence."""
        body = self.body
        first = TOKEN.search(body, s_start, before)
        if first is None or any(m.start <= first.start() <= m.end + 1 for m in quotes):
            return None
        word = first.group()
        if word.lower() in PRONOUNS:
            resolved = self._resolve_pronoun(first.start(), word.lower())
            return Speaker(first.start(), first.end(), resolved)
        window = min(before, first.start() + 25)
        for m_start, m_end, e in self.mentions:
            if m_start >= window:
                break
            if m_start >= first.start() and e.type in (EntityType.PER, EntityType.ORG):
                return Speaker(m_start, m_end, e)
        return None

    def _right_speaker(self, cue_end: int, s_end: int, quotes: Sequence[Mark]) -> Speaker | None:
        body = self.body
        stop = s_end
        for pattern in (",", ".", ";", "“", '"', "«", " who ", " in ", " on "):
            k = body.find(pattern, cue_end, stop)
            while pattern == "." and k > cue_end and is_abbreviation(body, cue_end, k + 1):
                k = body.find(pattern, k + 1, stop)  # "said Mr. Lee", "said C. J. Lee"
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
            return Speaker(start, start + len(first), self._resolve_pronoun(start, first.lower()))
        if first[0].islower() and first not in DETERMINERS and first not in _BEFORE_TITLE:
            return None
        return self._phrase(start, end)

    def _mention_at(self, a: int, b: int) -> tuple[int, int, Entity] | None:
        k = bisect_right(self.mention_starts, a) - 1
        while k >= 0 and self.mentions[k][1] > a - 200:
            m_start, m_end, entity = self.mentions[k]
            if m_start <= a < m_end and entity.type in (EntityType.PER, EntityType.ORG):
                return m_start, m_end, entity
            k -= 1
        return None

    def _phrase(self, start: int, end: int) -> Speaker:
        """A noun phrase as speaker: the person or organisation named at its head (a mention
        that ends the phrase, or its part before "of", "from", ...: "spokesman Jo Lee", "Jo
        Lee of the union"), else the person a title phrase names; "Lee's spokesman" or "an
        Acme official" is neither Lee nor Acme."""
        cut = _POST_HEAD.search(self.body, start, end)
        head_end = cut.start() if cut else end
        while head_end > start and self.body[head_end - 1] in " ,":
            head_end -= 1
        best: tuple[int, int, Entity] | None = None
        for m_start, m_end, entity in self.mentions:
            if m_start >= head_end:
                break
            fits = m_start >= start and m_end == head_end and entity.type in _SPEAKING
            if fits and (best is None or entity.type is EntityType.PER):
                best = (m_start, m_end, entity)
        if best is not None:
            return Speaker(*best)
        return Speaker(start, end, self.titles.resolve(start, end))

    def _resolve_pronoun(self, pos: int, pronoun: str) -> Entity | None:
        kind = PRONOUNS[pronoun]
        if kind == "ANY":
            return None
        if kind == "PER":
            previous = self.previous if self.previous and self.previous[0] < pos else None
            return self.pronouns.resolve(pos, pronoun, previous)
        k = bisect_right(self.mention_starts, pos) - 1
        while k >= 0:
            _m_start, m_end, entity = self.mentions[k]
            if m_end <= pos and entity.type is EntityType.ORG:
                if pos - m_end > 400:
                    return None
                return entity
            k -= 1
        return None
