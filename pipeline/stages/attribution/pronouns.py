"""Pronouns resolved to people: "he" and "she" to a person of that gender, preferring the
speaker of the quote just before, then the subject of the previous sentences, over the
nearest name.

A person's gender comes from the article only: an honorific before a mention ("Mr.", "Mrs.",
"Ms."), a gendered word next to one ("spokeswoman Ada Lim", "Lim, a congresswoman", "his
wife, Ada"), or a common first name. Names inside quotation marks are not subjects (in
"'Ask Donald,' she said" the speaker is not Donald); they are only taken when nothing else
fits.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from enum import IntEnum

from pipeline.models import Entity, EntityType
from pipeline.stages.attribution.named import person_like
from pipeline.text.sentences import Sentences


class Gender(IntEnum):
    MALE = 1
    FEMALE = 2


PRONOUN_GENDER = {
    "he": Gender.MALE,
    "him": Gender.MALE,
    "his": Gender.MALE,
    "himself": Gender.MALE,
    "she": Gender.FEMALE,
    "her": Gender.FEMALE,
    "hers": Gender.FEMALE,
    "herself": Gender.FEMALE,
}

_HONORIFIC = re.compile(r"\b(?:(Mr)|(Mrs|Ms|Miss|Madam))\.?\s+$")
_MALE_WORDS = (
    "spokesman chairman congressman businessman councilman alderman husband father son "
    "brother uncle grandfather nephew boyfriend king prince actor sir"
)
_FEMALE_WORDS = (
    "spokeswoman chairwoman congresswoman businesswoman councilwoman alderwoman wife mother "
    "daughter sister aunt grandmother niece girlfriend queen princess actress widow lady"
)
_GENDER_WORDS = {w: Gender.MALE for w in _MALE_WORDS.split()} | {
    w: Gender.FEMALE for w in _FEMALE_WORDS.split()
}
# Common first names (an illustrative list written for Mediamon, not taken from a data set).
_MALE_NAMES = (
    "aaron adam alan albert alex alexander andrew anthony antonio barack ben benjamin bernie "
    "bill bob brad brian bruce carl carlos charles chris christopher chuck dan daniel david "
    "dennis dick don donald doug douglas ed edward eric frank gary george greg harry henry "
    "howard ian jack jacob jake james jason jeb jeff jeffrey jerry jim joe john jon jonathan "
    "jose joseph josh juan justin keith ken kenneth kevin larry lee luis marco mark martin "
    "matt matthew michael mike mitch mitt mohammed muhammad nathan nick nicholas patrick paul "
    "pete peter philip ralph randy ray raymond richard rick robert roger ron ronald roy rudy "
    "russell ryan sam samuel scott sean sergei stephen steve steven ted terry thomas tim "
    "timothy todd tom tony vladimir walter wayne william"
)
_FEMALE_NAMES = (
    "alice alicia amanda amy angela ann anna anne barbara betty beth betsy carly carol "
    "caroline catherine cheryl christine claire cynthia debbie deborah diane donna dorothy "
    "elizabeth ellen emily emma erin eva grace hannah heather helen hillary huma jane janet "
    "jennifer jessica jill joan joyce judy julia julie karen kate katherine kathleen kathy "
    "kelly kelly-anne kellyanne kim laura lauren linda lisa lori louise margaret maria marie "
    "marilyn martha mary megan melania melissa michelle monica nancy nicole nikki olivia "
    "pam pamela patricia rachel rebecca rose ruth sandra sara sarah sharon stephanie susan "
    "teresa theresa tiffany victoria virginia wendy"
)
_FIRST_NAMES = {n: Gender.MALE for n in _MALE_NAMES.split()} | {
    n: Gender.FEMALE for n in _FEMALE_NAMES.split()
}
_WORDS = re.compile(r"[\w.'\u2019-]+")
_NOT_OWN = frozenset(["of", "for", "to", "with", "and", "by", "from", "'s", "\u2019s"])
# "Ada Lim, a former congresswoman,": not "Tom Lee, his wife and ..." (someone else)
_APPOSITIVE = re.compile(r",\s+(?:a|an|the)\s+((?:[\w-]+\s+){0,2}[\w-]+)")

SENTENCE_REACH = 3
"""A pronoun resolves to a person named in its sentence or this many sentences before it."""


def genders(body: str, entities: Sequence[Entity]) -> dict[str, Gender]:
    """What the article says of each person's gender (people it says nothing of are left
    out); the first evidence in this order wins: honorific, a gendered word next to a
    mention, the first name."""
    out: dict[str, Gender] = {}
    for entity in entities:
        if entity.type is not EntityType.PER:
            continue
        found = _gender(body, entity)
        if found is not None:
            out[entity.id] = found
    return out


def _gender(body: str, entity: Entity) -> Gender | None:
    for mention in entity.mentions:
        honorific = _HONORIFIC.search(body, max(0, mention.start - 8), mention.start)
        if honorific is not None:
            return Gender.MALE if honorific.group(1) else Gender.FEMALE
    for mention in entity.mentions:
        for word in reversed(_WORDS.findall(body[max(0, mention.start - 30) : mention.start])[-2:]):
            word = word.lower()
            if word in _GENDER_WORDS:
                return _GENDER_WORDS[word]
            if word in _NOT_OWN:  # "the wife of Tom Lee": the word is someone else's
                break
        appositive = _APPOSITIVE.match(body, mention.end)
        if appositive is not None:
            for word in appositive.group(1).lower().split():
                if word in _GENDER_WORDS:
                    return _GENDER_WORDS[word]
        for word in mention.text.lower().split()[:-1]:
            if word in _GENDER_WORDS:
                return _GENDER_WORDS[word]
    first = entity.name.lower().split()[0] if entity.name else ""
    return _FIRST_NAMES.get(first)


class PronounResolver:
    """Resolves the pronouns of one body to its people (``mentions``: every mention as
    (start, end, entity), sorted by start; ``quoted``: the content spans of its quotations,
    sorted)."""

    def __init__(
        self,
        body: str,
        mentions: Sequence[tuple[int, int, Entity]],
        quoted: Sequence[tuple[int, int]],
        sentences: Sentences | None = None,
    ) -> None:
        self.body = body
        self.people = [
            m for m in mentions if m[2].type is EntityType.PER and person_like(body, m[2])
        ]
        self.starts = [m[0] for m in self.people]
        self.quoted = list(quoted)
        self.quote_starts = [q[0] for q in self.quoted]
        self.sentences = sentences if sentences is not None else Sentences.of(body)
        self.gender = genders(body, list({id(m[2]): m[2] for m in self.people}.values()))

    def add(self, start: int, end: int, entity: Entity) -> None:
        """A person found after the resolver was made (a name the recogniser missed)."""
        k = bisect_right(self.starts, start)
        self.starts.insert(k, start)
        self.people.insert(k, (start, end, entity))

    def inside_quote(self, pos: int) -> bool:
        k = bisect_right(self.quote_starts, pos) - 1
        return k >= 0 and pos < self.quoted[k][1]

    def fits(self, entity: Entity, gender: Gender | None) -> bool:
        return gender is None or self.gender.get(entity.id, gender) == gender

    def resolve(
        self,
        pos: int,
        pronoun: str,
        previous: tuple[int, Entity] | None = None,
        *,
        anywhere: bool = True,
    ) -> Entity | None:
        """The person ``pronoun`` at ``pos`` refers to. ``previous``: where the last speaker
        before ``pos`` spoke and who it was; it wins when it fits and no other fitting person
        was named outside quotes since. ``anywhere``: with nobody fitting within
        :data:`SENTENCE_REACH`, the nearest fitting person named before."""
        gender = PRONOUN_GENDER.get(pronoun)
        s_index = self.sentences.index(pos)
        floor = self.sentences.spans[max(0, s_index - SENTENCE_REACH)][0]
        lo = bisect_left(self.starts, floor)
        hi = bisect_right(self.starts, pos)
        candidates = [m for m in self.people[lo:hi] if m[1] <= pos and self.fits(m[2], gender)]
        outside = [m for m in candidates if not self.inside_quote(m[0])]
        if previous is not None and previous[0] >= floor and self.fits(previous[1], gender):
            speaker = previous[1]
            if speaker.type is EntityType.PER and not any(
                m[0] > previous[0] and m[2].id != speaker.id for m in outside
            ):
                return speaker
        if outside:
            # the subject: the first fitting person of the nearest sentence that has one
            last = self.sentences.index(outside[-1][0])
            s_start = self.sentences.spans[last][0]
            return next(m[2] for m in outside if m[0] >= s_start)
        if candidates:
            return candidates[-1][2]
        if not anywhere:
            return None
        k = bisect_right(self.starts, pos) - 1
        while k >= 0:
            _m_start, m_end, entity = self.people[k]
            if m_end <= pos and self.fits(entity, gender):
                return entity
            k -= 1
        return None
