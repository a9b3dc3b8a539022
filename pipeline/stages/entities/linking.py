"""Entity linking: mentions found by the recogniser become entities of the article.

For each article:

1. A title before a name is not part of it: "President Vladimir Putin" becomes a mention of
   "Vladimir Putin" (the span is trimmed), "Foreign Minister Sergei Lavrov" of "Sergei Lavrov".
2. An office named without a name ("the Russian President", "the U.S. Secretary of State")
   becomes a person mention of whoever held it in the article's year.
3. Mentions resolve to knowledge-base entries by name ("U.S.", "United States", "ISIL",
   "Islamic State"); demonyms ("Russian") to their country, keeping the mention's own type
   (MISC); a capital used for its government ("talks with Washington") to the country, while
   the capital as a place ("a delegation to Washington", a dateline) stays the city.
4. A later short form joins the full name's entity: "Putin" after "Vladimir Putin", "Assad"
   after "Bashar Assad"; a short form of a well-known person with no full name in the article
   resolves through the knowledge base; an acronym joins an organisation of the same article
   whose initials it spells.
5. Everything else is grouped by name and type into article-local entities (``local:...``).

Salience combines how often an entity is mentioned, whether in the lead, and whether the title
names it; the scores of an article sum to 1.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pipeline.models import Entity, EntityType, Mention
from pipeline.resources.kb import KBEntry, KnowledgeBase, default_kb
from pipeline.text.folding import fold

LEAD_MIN_CHARS = 400
"""The lead is the first 20% of the body, but at least this many characters."""
LEAD_WEIGHT = 2.0
"""A mention in the lead counts this many times."""
TITLE_SHARE = 0.5
"""An entity named in the title gains this share of the article's total mention weight."""

_LEADING_ARTICLE = re.compile(r"^(the|a|an)\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"['\u2019]s?$")
_WORD = re.compile(r"[\w][\w.'\u2019&-]*")
_PREVIOUS_WORD = re.compile(r"([\w.'\u2019-]+)\W*$")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ACRONYM_STOP = frozenset({"of", "the", "and", "for", "de", "du", "des", "la", "le", "&"})


@dataclass(frozen=True, slots=True)
class RawMention:
    """A mention as the recogniser found it, before grouping."""

    start: int
    end: int
    text: str
    type: EntityType


@dataclass(slots=True)
class _Group:
    id: str
    type: EntityType
    entry: KBEntry | None
    mentions: list[RawMention] = field(default_factory=list)


def link_entities(
    mentions: Iterable[RawMention],
    body: str,
    title: str | None = None,
    *,
    year: int | None = None,
    kb: KnowledgeBase | None = None,
) -> list[Entity]:
    """Link and group ``mentions`` of ``body`` into entities, most salient first."""
    kb = kb or default_kb()
    cleaned = _remove_overlaps(
        [
            *(_strip_title(_extend(m, body, kb), body, kb) for m in mentions),
            *_office_mentions(body, kb, year),
        ]
    )
    groups: dict[str, _Group] = {}
    assigned: dict[int, str] = {}  # index in ``cleaned`` -> group id

    def join(
        index: int,
        group_id: str,
        etype: EntityType,
        entry: KBEntry | None,
        relabel: EntityType | None = None,
    ) -> None:
        group = groups.setdefault(group_id, _Group(group_id, etype, entry))
        mention = cleaned[index][0]
        if relabel is not None and relabel != mention.type:
            mention = RawMention(mention.start, mention.end, mention.text, relabel)
        group.mentions.append(mention)
        assigned[index] = group_id

    # 1. knowledge-base names, demonyms and offices
    for index, (mention, holder) in enumerate(cleaned):
        entry = holder or _resolve(mention, body, kb)
        if entry is not None:
            # a place the recogniser took for a person ("Fiji's envoy") becomes a place; a
            # demonym is a MISC mention ("the Kazakh capital") of its country
            relabel = entry.type if mention.type == EntityType.PER else None
            if holder is None and _is_demonym(mention, entry, kb):
                relabel = EntityType.MISC
            join(index, entry.id, entry.type, entry, relabel)
    # 2. full names of people not in the knowledge base
    persons = {
        gid: g for gid, g in groups.items() if g.type == EntityType.PER and g.entry is not None
    }
    for index, (mention, _) in enumerate(cleaned):
        if index in assigned or mention.type != EntityType.PER:
            continue
        if len(_name_words(mention.text)) > 1:
            key = f"local:per:{fold(mention.text, 'slug')}"
            join(index, key, EntityType.PER, None)
            persons[key] = groups[key]
    # 3. short forms of people: the article's full names first (whatever type the recogniser
    #    gave the short form: "Delgado" after "Rosa Delgado" is her), then the knowledge base
    for index, (mention, _) in enumerate(cleaned):
        if index in assigned:
            continue
        words = _name_words(mention.text)
        if len(words) != 1:
            continue
        group = _person_with_short_form(words[0], persons.values())
        if group is not None:
            join(index, group.id, EntityType.PER, group.entry, EntityType.PER)
        elif mention.type == EntityType.PER:
            candidates = kb.by_short_form(words[0])
            if len(candidates) == 1:
                join(index, candidates[0].id, EntityType.PER, candidates[0])
    # 4. acronyms of the article's own organisations
    orgs = [g for g in groups.values() if g.type == EntityType.ORG]  # knowledge-base ones first
    for index, (mention, _) in enumerate(cleaned):
        if index in assigned or mention.type != EntityType.ORG:
            continue
        if len(_name_words(mention.text)) > 1:
            key = f"local:org:{fold(mention.text, 'slug')}"
            join(index, key, EntityType.ORG, None)
            orgs.append(groups[key])
    for index, (mention, _) in enumerate(cleaned):
        if index in assigned or mention.type != EntityType.ORG:
            continue
        target = _expansion(mention.text, orgs, kb)
        if target is not None:
            join(index, target.id, target.type, target.entry)
    # 5. everything else, by name; the entity takes its mentions' most frequent type
    rest: dict[str, list[int]] = {}
    for index, (mention, _) in enumerate(cleaned):
        if index not in assigned:
            key = fold(mention.text, "slug")
            if key:
                rest.setdefault(key, []).append(index)
    for key, indices in rest.items():
        types = Counter(cleaned[i][0].type for i in indices)
        etype = types.most_common(1)[0][0]  # ties: the first mention's type
        group_id = f"local:{etype.value.lower()}:{key}"
        if group_id in groups:  # a full name of the same key made earlier
            etype = groups[group_id].type
        for index in indices:
            join(index, group_id, etype, None)
    return _entities(list(groups.values()), body, title, kb)


def _entities(
    groups: list[_Group], body: str, title: str | None, kb: KnowledgeBase
) -> list[Entity]:
    lead_end = max(len(body) // 5, min(len(body), LEAD_MIN_CHARS))
    weights = {
        g.id: sum(LEAD_WEIGHT if m.start < lead_end else 1.0 for m in g.mentions) for g in groups
    }
    total = sum(weights.values())
    if title:
        grams = _title_grams(title)
        for group in groups:
            forms = {fold(m.text) for m in group.mentions}
            forms.update(fold(name) for name in kb.names_of(group.id))
            if forms & grams:
                weights[group.id] += TITLE_SHARE * total
    norm = sum(weights.values()) or 1.0
    entities = []
    for group in groups:
        members = sorted(group.mentions, key=lambda m: m.start)
        entities.append(
            Entity(
                id=group.id,
                name=group.entry.name if group.entry else _display_name(members),
                type=group.type,
                salience=round(weights[group.id] / norm, 4),
                mentions=[
                    Mention(start=m.start, end=m.end, text=m.text, type=m.type) for m in members
                ],
            )
        )
    entities.sort(key=lambda e: (-e.salience, e.mentions[0].start))
    return entities


def _title_grams(title: str) -> set[str]:
    words = [_POSSESSIVE.sub("", w) for w in _WORD.findall(title)]
    grams = set()
    for n in range(1, 5):
        for i in range(len(words) - n + 1):
            grams.add(fold(" ".join(words[i : i + n])))
    return grams


def _display_name(members: Sequence[RawMention]) -> str:
    """The longest surface form, without a leading article or possessive."""
    best = max((m.text for m in members), key=len)
    return _POSSESSIVE.sub("", _LEADING_ARTICLE.sub("", best.strip()))


def _name_words(text: str) -> list[str]:
    return _POSSESSIVE.sub("", _LEADING_ARTICLE.sub("", text.strip())).split()


# --- step details ------------------------------------------------------------------------------


def _strip_title(
    mention: RawMention, body: str, kb: KnowledgeBase
) -> tuple[RawMention, KBEntry | None]:
    """Drop titles (and a demonym before one) at the start of a person's mention."""
    text, start = mention.text, mention.start
    if mention.type != EntityType.PER or " " not in text:
        return mention, None
    if kb.lookup(text):
        return mention, None
    changed = True
    while changed:
        changed = False
        words = text.split(" ", 1)
        if len(words) == 2 and kb.demonym(words[0]) and _title_prefix(words[1], kb):
            text, start, changed = words[1], start + len(words[0]) + 1, True
        prefix = _title_prefix(text, kb)
        if prefix and len(text) > len(prefix) + 1 and text[len(prefix) + 1].isupper():
            cut = len(prefix) + 1
            text, start, changed = text[cut:], start + cut, True
    if start == mention.start:
        return mention, None
    return RawMention(start, mention.end, body[start : mention.end], EntityType.PER), None


_NEXT_WORDS = re.compile(r"\s[\w][\w.'\u2019-]*")


def _extend(mention: RawMention, body: str, kb: KnowledgeBase) -> RawMention:
    """A mention cut short of a knowledge-base name ("Islamic" of "Islamic State") grows to
    the whole name."""
    if mention.type == EntityType.PER:
        return mention
    ends = []
    position = mention.end
    for _ in range(3):
        match = _NEXT_WORDS.match(body, position)
        if match is None:
            break
        position = match.end()
        ends.append(position)
    for end in reversed(ends):
        entries = kb.exact(body[mention.start : end])
        if entries and entries[0].type != EntityType.PER:
            return RawMention(mention.start, end, body[mention.start : end], entries[0].type)
    return mention


def _title_prefix(text: str, kb: KnowledgeBase) -> str | None:
    for title in kb.titles:  # longest first
        if text.startswith(title) and len(text) > len(title) and text[len(title)] == " ":
            return title
    return None


def _office_mentions(
    body: str, kb: KnowledgeBase, year: int | None
) -> list[tuple[RawMention, KBEntry | None]]:
    """Mentions of an office without a name ("the Russian President said")."""
    if not kb.role_titles:
        return []
    found: list[tuple[RawMention, KBEntry | None]] = []
    for match in _office_pattern(tuple(kb.role_titles)).finditer(body):
        after = body[match.end() : match.end() + 3]
        if re.match(r"\s+[A-Z]", after) or re.match(r"-", after):
            continue  # a name follows: the title is stripped from it instead
        window = max(0, match.start() - 40)
        country_words = _country_before(body[window : match.start()], kb)
        if country_words is None:
            continue
        offset, country = country_words
        title = _canonical_title(match.group(0), kb)
        holder = kb.holder(title, country.id, year)
        if holder is None:
            continue
        start = window + offset
        found.append(
            (RawMention(start, match.end(), body[start : match.end()], EntityType.PER), holder)
        )
    return found


_office_patterns: dict[tuple[str, ...], re.Pattern[str]] = {}


def _office_pattern(titles: tuple[str, ...]) -> re.Pattern[str]:
    pattern = _office_patterns.get(titles)
    if pattern is None:
        alternatives = sorted({t for t in titles} | {t.lower() for t in titles}, key=len)
        pattern = re.compile(
            r"\b(?:" + "|".join(re.escape(t) for t in reversed(alternatives)) + r")\b"
        )
        _office_patterns[titles] = pattern
    return pattern


def _canonical_title(text: str, kb: KnowledgeBase) -> str:
    for key, title in kb.role_titles.items():
        if key.casefold() == text.casefold():
            return title
    return text


_LAST_WORDS = {n: re.compile(r"(\S+" + r"\s+\S+" * (n - 1) + r")\s+$") for n in (1, 2)}
_NOT_NOW = frozenset({"former", "late", "ex", "then", "future", "next", "previous", "acting"})


def _country_before(before: str, kb: KnowledgeBase) -> tuple[int, KBEntry] | None:
    """Where in ``before`` the country word(s) right before an office title start, and the
    country: "Russian", "U.S.", "Russia's". None after "former", "late" and the like."""
    for n in (2, 1):
        match = _LAST_WORDS[n].search(before)
        if match is None or not match.group(1)[:1].isupper():
            continue
        phrase = match.group(1)
        if phrase.split()[0].casefold() == "the":
            continue
        country = kb.demonym(phrase)
        if country is None:
            for entry in kb.lookup(_POSSESSIVE.sub("", phrase)):
                if entry.kind == "country":
                    country = entry
                    break
        if country is not None and country.kind == "country":
            previous = _PREVIOUS_WORD.search(before[: match.start()])
            if previous is not None and previous.group(1).casefold().strip("-") in _NOT_NOW:
                return None
            return match.start(), country
    return None


def _remove_overlaps(
    items: list[tuple[RawMention, KBEntry | None]],
) -> list[tuple[RawMention, KBEntry | None]]:
    """Office mentions win over what they cover; otherwise the first-found mention wins."""
    items = sorted(items, key=lambda item: (item[1] is None, item[0].start))
    kept: list[tuple[RawMention, KBEntry | None]] = []
    for item in items:
        m = item[0]
        if m.end <= m.start:
            continue
        if any(m.start < k.end and k.start < m.end for k, _ in kept):
            continue
        kept.append(item)
    kept.sort(key=lambda item: item[0].start)
    return kept


def _resolve(mention: RawMention, body: str, kb: KnowledgeBase) -> KBEntry | None:
    """The knowledge-base entry a mention names, if it fits the mention's type."""
    text = _POSSESSIVE.sub("", mention.text.strip())
    if mention.type in (EntityType.MISC, EntityType.LOC, EntityType.ORG):
        country = kb.demonym(text)
        if country is not None and (mention.type == EntityType.MISC or not kb.lookup(text)):
            return country
    candidates = [e for e in kb.lookup(text) if _fits(mention, e)]
    if not candidates:
        return None
    entry = min(candidates, key=_preference)
    if entry.metonym_of and not _locative(mention, body):
        government = kb.get(entry.metonym_of)
        if government is not None:
            return government
    return entry


def _is_demonym(mention: RawMention, entry: KBEntry, kb: KnowledgeBase) -> bool:
    text = _POSSESSIVE.sub("", mention.text.strip())
    return kb.demonym(text) == entry and not kb.lookup(text)


def _fits(mention: RawMention, entry: KBEntry) -> bool:
    if entry.type == EntityType.PER:
        return mention.type == EntityType.PER
    if mention.type == EntityType.PER:
        # the recogniser takes some places for people ("Fiji's envoy"); not given names
        return entry.kind in _PLACE_KINDS and mention.text not in _GIVEN_NAMES
    return True


_PLACE_KINDS = frozenset({"country", "capital", "city", "region"})
_GIVEN_NAMES = _words(
    """Jordan Chad Georgia Israel Kenya India Victoria Florence Austin Charlotte Sofia Paris
    Madison Dallas Orlando Phoenix Sydney Chelsea Adelaide Regina Troy Salvador Santiago
    Wellington Lincoln Jackson Houston Denver Cleveland Washington Hamilton Kingston Nelson
    Lima Perth Columbus Portland Nashville Hartford Greenwich Stamford Milan Vienna Lorraine
    Sierra Virginia Carolina Indiana Montana Nevada Dakota Tennessee Alabama Tyrone Kent
    Essex Devon Derby Chester Camden Bristol Preston Richmond Stanley Moscow Berlin
    Roma Rome Turin Geneva Lyon Sochi Bonn Brandon Aurora Ruth Alexandria Cairo"""
)


_KIND_ORDER = {"country": 0, "former-country": 1, "capital": 2, "city": 3, "region": 4}


def _preference(entry: KBEntry) -> int:
    return _KIND_ORDER.get(entry.kind, 5)


def _locative(mention: RawMention, body: str) -> bool:
    """Whether a capital is named as a place rather than for its government. The government
    is the one that speaks, wants or is dealt with: "Washington said", "Moscow's position",
    "a meeting with Washington", "talks between Moscow and Kyiv". Anything else (a dateline,
    "a delegation to Washington", "the Helsinki fund") is the place."""
    if not body[: mention.start].strip():
        return True  # a dateline: "MOSCOW, Oct 15 -"
    before = _PREVIOUS_WORD.search(body[max(0, mention.start - 30) : mention.start])
    if before is not None and before.group(1).casefold() in _GOVERNMENT_BEFORE:
        return False
    after = _NEXT_WORD.match(body, mention.end)
    if after is not None:
        word = after.group(1).casefold()
        if word in _GOVERNMENT_AFTER or word in {"'s", "\u2019s"}:
            return False
    return True


_NEXT_WORD = re.compile(r"(?:\s+|(?=['\u2019]s\b))([\w'\u2019]+)")
_GOVERNMENT_BEFORE = _words(
    "with between against by urged urges pressed pressured told accused warned and"
)
_GOVERNMENT_AFTER = _words(
    """said says say has have had is was will would could should may might must can cannot
    accused rejected denied warned insisted refused demanded agreed announced claimed
    responded threatened hopes hoped believes believed sees saw views wants wanted and
    urged urges called calls blamed condemned welcomed supports supported opposes opposed
    plans planned considers considered"""
)


def _person_with_short_form(word: str, persons: Iterable[_Group]) -> _Group | None:
    """The article's person whose name ends in (or is known by) ``word``."""
    matches = []
    for group in persons:
        forms: set[str] = set()
        if group.entry is not None:
            forms.update(group.entry.short_forms())
        for m in group.mentions:
            words = _name_words(m.text)
            if len(words) > 1:
                forms.add(words[-1])
        if word in forms:
            matches.append(group)
    return matches[0] if len(matches) == 1 else None


def _expansion(acronym: str, orgs: list[_Group], kb: KnowledgeBase) -> _Group | None:
    letters = acronym.replace(".", "")
    if not (2 <= len(letters) <= 6 and letters.isupper() and letters.isalpha()):
        return None
    for group in orgs:
        names = [m.text for m in group.mentions]
        if group.entry is not None:
            names.extend(group.entry.names)
        for name in names:
            words = [w for w in re.split(r"[\s-]+", name) if w and w.lower() not in _ACRONYM_STOP]
            if len(words) > 1 and "".join(w[0] for w in words).upper() == letters:
                return group
    return None
