"""Speakers the recogniser gave no entity: a capitalised name next to a verb of saying is a
person ("Lonechild said"), an acronym an organisation ("AROS said"); "the union" or "the
ministry" is the organisation of that kind named before it."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

from pipeline.models import Entity, EntityType
from pipeline.text.folding import fold
from pipeline.text.titles import TITLES


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NAME_WORD = re.compile(r"(?:[A-Z][a-z]*\.|(?:Mc|Mac|O['\u2019])?[A-Z][a-z'\u2019-]+)$")
_PARTICLES = frozenset(["de", "da", "van", "von", "der", "bin", "al", "del", "la", "le", "du"])
_ACRONYM = re.compile(r"[A-Z]{2,6}$")
_NOT_NAMES = _words(
    "officials police democrats republicans critics experts analysts authorities "
    "prosecutors investigators researchers scientists doctors witnesses residents "
    "supporters opponents voters sources organizers protesters lawmakers leaders "
    "observers economists officers students parents teachers workers members others some "
    "many both all most several few reports documents records polls studies data figures "
    "statistics americans aides advisers staff people everyone nobody monday tuesday "
    "wednesday thursday friday saturday sunday january february march april may june july "
    "august september october november december god"
)
# "WeWork", "YouTube", "iPhone7": brands, not people ("McCain", "DeSantis" are)
_BRAND = re.compile(r"^(?!Mc|Mac|De|Di|Du|La|Le|Van|O['\u2019])\w*[a-z][A-Z]|\d")
_ON = re.compile(r"\b(?:on|via|at)\s+$")

ORG_NOUNS = _words(
    "union ministry department company firm agency commission committee council party "
    "group bank government administration board court office organization organisation "
    "association network newspaper paper magazine broadcaster station channel club team "
    "university school hospital army military foundation institute center centre "
    "coalition alliance federation league authority service bureau corporation website "
    "outlet publication airline carrier retailer maker manufacturer developer studio "
    "church embassy regulator watchdog fund charity campaign startup"
)
"""Nouns of "the X said" that name an organisation of the article."""
_GENERIC = _words(
    "company firm bank retailer airline carrier maker manufacturer developer startup "
    "broadcaster newspaper paper outlet website network group"
)
"""Of those, the ones that stand for the organisation just named, whatever its name."""
GENERIC_REACH = 600
"""How far back (characters) "the company" looks for the organisation it stands for."""


def name_type(body: str, start: int, end: int) -> EntityType | None:
    """PER when ``body[start:end]`` reads as a person's name (capitalised words, none a
    common word of the article: "Police" is not a name when the body also says "police"),
    ORG for an acronym; None otherwise."""
    words = body[start:end].split()
    if not words or len(words) > 4:
        return None
    if len(words) == 1 and _ACRONYM.match(words[0]):
        return EntityType.ORG
    for word in words:
        if word in _PARTICLES:
            continue
        bare = word.rstrip(",")
        if not _NAME_WORD.match(bare) or bare.lower().strip(".") in TITLES:
            return None
        if bare.lower() in _NOT_NAMES or _common(body, bare):
            return None
    if words[-1] in _PARTICLES:
        return None
    return EntityType.PER


def _common(body: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word.lower())}\b", body) is not None


def person_like(body: str, entity: Entity) -> bool:
    """Whether a person entity can be "he" or "she": not a brand the recogniser took for a
    person ("WeWork", "on Instagram")."""
    if len(entity.name.split()) > 1:
        return True
    if _BRAND.search(entity.name):
        return False
    return not any(_ON.search(body, max(0, m.start - 5), m.start) for m in entity.mentions)


def local_id(etype: EntityType, text: str) -> str:
    """The article-local id the entities stage gives a name of that type."""
    return f"local:{etype.value.lower()}:{fold(text, 'slug')}"


def org_of_phrase(
    body: str,
    start: int,
    end: int,
    mentions: Sequence[tuple[int, int, Entity]],
    starts: Sequence[int],
) -> Entity | None:
    """The organisation "the ministry" (``body[start:end]``) stands for: the nearest one
    named before it with that word in its name, or, for "the company", "the bank", ..., the
    one named just before it."""
    words = body[start:end].lower().split()
    if len(words) < 2 or words[0] not in ("the", "its"):
        return None
    noun = words[-1]
    if noun not in ORG_NOUNS:
        return None
    k = bisect_right(starts, start) - 1
    nearest: Entity | None = None
    while k >= 0:
        _m_start, m_end, entity = mentions[k]
        k -= 1
        if entity.type is not EntityType.ORG or m_end > start:
            continue
        if noun in entity.name.lower().split() or any(
            noun in m.text.lower().split() for m in entity.mentions
        ):
            return entity
        if nearest is None and start - m_end <= GENERIC_REACH:
            nearest = entity
    return nearest if noun in _GENERIC else None
