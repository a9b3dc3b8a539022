"""Titles: a phrase naming a person by office ("the spokesman", "the senator") resolved to the
nearest person named before it who holds that title, by the knowledge base's roles or by the
words around one of the person's mentions ("Senator Jane Roe", "Jane Roe, the senator")."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence

from pipeline.models import Entity, EntityType, Mention
from pipeline.resources.kb import KnowledgeBase

_TITLE_WORDS = (
    "spokesman spokeswoman spokesperson minister president secretary chancellor premier "
    "governor senator sen. rep. representative ambassador official aide adviser advisor "
    "director chairman chairwoman chair leader general gen. candidate nominee mayor chief "
    "envoy diplomat lawyer attorney analyst commander king queen pope prime congressman "
    "congresswoman speaker manager ceo founder professor economist expert pollster"
)
TITLES = frozenset(_TITLE_WORDS.split())
"""The words that name a person by office or role."""

_LEADS = ("the", "a", "an", "his", "her", "their", "its")
_TITLE_PHRASE = re.compile(
    r"\b(?:[Tt]he|[Hh]is|[Hh]er|[Tt]heir|[Ii]ts)\s+(?:[a-z][\w-]*\s+){0,2}?(?:"
    + "|".join(sorted((re.escape(t) for t in TITLES), key=len, reverse=True))
    + r")(?!\w)"
)


class TitleResolver:
    """Resolves title phrases in one body against its people (``mentions``: every mention as
    (start, end, entity), sorted by start)."""

    def __init__(
        self,
        body: str,
        mentions: Sequence[tuple[int, int, Entity]],
        kb: KnowledgeBase,
    ) -> None:
        self.body = body
        self.mentions = mentions
        self.starts = [m[0] for m in mentions]
        self.kb = kb
        self._known: dict[tuple[str, str], bool] = {}

    def resolve(self, start: int, end: int) -> Entity | None:
        """The person the phrase ``body[start:end]`` names by title ("the foreign minister"),
        if it is one and such a person was named before it; else None."""
        words = [w.lower().strip(".,") for w in self.body[start:end].split()]
        titles = [w for w in words if w in TITLES]
        if not titles or words[0] not in _LEADS:
            return None
        title = titles[-1]
        k = bisect_right(self.starts, start) - 1
        while k >= 0:
            _m_start, m_end, entity = self.mentions[k]
            k -= 1
            if entity.type is not EntityType.PER or m_end > start:
                continue
            if self._has_title(entity, title):
                return entity
        return None

    def _has_title(self, entity: Entity, title: str) -> bool:
        key = (entity.id, title)
        known = self._known.get(key)
        if known is None:
            known = self._known[key] = self._title_of(entity, title)
        return known

    def _title_of(self, entity: Entity, title: str) -> bool:
        entry = self.kb.entries.get(entity.id)
        if entry is not None and any(title in r.title.casefold().split() for r in entry.roles):
            return True
        for mention in entity.mentions:
            if title in mention.text.lower().split():  # "Mayor Ann Lund" as one mention
                return True
            context = self.body[max(0, mention.start - 60) : mention.start].lower()
            if title in re.findall(r"[\w.]+", context)[-5:]:
                return True
            after = self.body[mention.end : mention.end + 40].lower()
            if title in re.findall(r"[\w.]+", after)[:4]:
                return True
        return False


def title_mentions(
    body: str, entities: Sequence[Entity], kb: KnowledgeBase
) -> dict[str, list[Mention]]:
    """Every title phrase of ``body`` that resolves to one of ``entities``' people, as a
    person mention of that entity (keyed by entity id); phrases inside a named mention ("the
    President Obama" is Obama's own mention) are left out."""
    if not any(e.type is EntityType.PER for e in entities):
        return {}
    spans = sorted(((m.start, m.end, e) for e in entities for m in e.mentions), key=lambda s: s[0])
    resolver = TitleResolver(body, spans, kb)
    found: dict[str, list[Mention]] = defaultdict(list)
    for match in _TITLE_PHRASE.finditer(body):
        start, end = match.span()
        if any(s < end and start < e for s, e, _ in spans):
            continue
        entity = resolver.resolve(start, end)
        if entity is not None:
            found[entity.id].append(
                Mention(start=start, end=end, text=match.group(), type=EntityType.PER)
            )
    return found
