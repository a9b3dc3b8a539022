"""Folding text into a key that ignores how it is written: one function, three forms (a name's
lookup key, a name's slug for local entity ids, an article text's case- and space-blind form)."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Form = Literal["name", "slug", "text"]

_LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)
_LEADING_ARTICLE = re.compile(r"^(the|a|an)\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"['\u2019]s?$")
_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w]+")


def fold(text: str, form: Form = "name") -> str:
    """``text`` folded, by ``form``:

    - ``"name"``: the lookup key of a name (knowledge base, title n-grams): accents, case, a
      leading 'the' and a possessive removed, whitespace runs made one space;
    - ``"slug"``: the grouping key of a mention, part of a local entity id: as ``"name"``, a
      leading 'a' or 'an' removed too, and every run of non-word characters made one hyphen;
    - ``"text"``: an article's text for its id and content hash: NFC, case-folded, whitespace
      runs made one space; accents and every word kept.
    """
    if form == "text":
        return " ".join(unicodedata.normalize("NFC", text).casefold().split())
    folded = unicodedata.normalize("NFKD", text.replace("\u2019", "'"))
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    leading = _LEADING_ARTICLE if form == "slug" else _LEADING_THE
    folded = _POSSESSIVE.sub("", leading.sub("", folded.strip()))
    if form == "slug":
        return _NON_WORD.sub("-", folded.casefold()).strip("-")
    return _SPACES.sub(" ", folded).casefold()
