"""Language of an article: detection with lingua, and normalisation of declared language codes."""

from __future__ import annotations

import re
from functools import cache

from lingua import IsoCode639_1, IsoCode639_3, Language, LanguageDetector, LanguageDetectorBuilder

MAX_DETECT_CHARS = 1000
"""Only this many leading characters are examined: plenty for a reliable answer, and fast.
1000 gives the same answer as 2000 on all 1,217 articles of ``bench/eval_language.py``'s run in
the README, in 64 % of the time; 600 mistakes a Malay article for Indonesian."""

MIN_RELATIVE_DISTANCE = 0.1
"""Below this margin between the two likeliest languages the text counts as undecidable."""

NEWS_LANGUAGES: frozenset[Language] = frozenset(
    {
        Language.ALBANIAN,
        Language.ARABIC,
        Language.ARMENIAN,
        Language.AZERBAIJANI,
        Language.BELARUSIAN,
        Language.BENGALI,
        Language.BOKMAL,
        Language.BOSNIAN,
        Language.BULGARIAN,
        Language.CATALAN,
        Language.CHINESE,
        Language.CROATIAN,
        Language.CZECH,
        Language.DANISH,
        Language.DUTCH,
        Language.ENGLISH,
        Language.ESTONIAN,
        Language.FINNISH,
        Language.FRENCH,
        Language.GEORGIAN,
        Language.GERMAN,
        Language.GREEK,
        Language.HEBREW,
        Language.HINDI,
        Language.HUNGARIAN,
        Language.INDONESIAN,
        Language.ITALIAN,
        Language.JAPANESE,
        Language.KAZAKH,
        Language.KOREAN,
        Language.LATVIAN,
        Language.LITHUANIAN,
        Language.MACEDONIAN,
        Language.MALAY,
        Language.PERSIAN,
        Language.POLISH,
        Language.PORTUGUESE,
        Language.ROMANIAN,
        Language.RUSSIAN,
        Language.SERBIAN,
        Language.SLOVAK,
        Language.SLOVENE,
        Language.SPANISH,
        Language.SWAHILI,
        Language.SWEDISH,
        Language.TAGALOG,
        Language.THAI,
        Language.TURKISH,
        Language.UKRAINIAN,
        Language.URDU,
        Language.VIETNAMESE,
    }
)
"""The languages detection chooses from: the major languages of news publishing."""

_CODE_RE = re.compile(r"[A-Za-z]{2,3}(?=$|[-_.@])")


@cache
def _detector() -> LanguageDetector:
    # Low-accuracy mode scores trigrams only, whatever the text's length. From 120 characters
    # on that is what lingua's high-accuracy mode does too, so long articles lose nothing;
    # short texts (headlines, one-sentence items) lose a little: on 120 short English
    # sentences of NewsMTSC rw-dev, 115 come out English against 116, but the process stays at
    # ~60 MB where the 1- to 5-gram models of high-accuracy mode take ~730 MB and 6 s to load.
    return (
        LanguageDetectorBuilder.from_languages(*NEWS_LANGUAGES)
        .with_minimum_relative_distance(MIN_RELATIVE_DISTANCE)
        .with_low_accuracy_mode()
        .build()
    )


def detect_language(text: str, max_chars: int = MAX_DETECT_CHARS) -> str | None:
    """The ISO 639-1 code (lower case) of the language of ``text``, or None when undecidable.

    Looks at the first ``max_chars`` characters only. Texts without letters, and texts too
    short or too mixed for a clear winner among ``NEWS_LANGUAGES``, give None.
    """
    sample = text[:max_chars]
    if not any(char.isalpha() for char in sample):
        return None
    language = _detector().detect_language_of(sample)
    return None if language is None else language.iso_code_639_1.name.lower()


def language_code(declared: str) -> str | None:
    """Normalise a declared language to ISO 639-1 lower case, or None when not recognisable.

    Accepts ISO 639-1 and 639-3 codes with an optional region or script ('en', 'EN-gb',
    'deu', 'pt_BR', 'zh-Hant') and English language names ('German').
    """
    value = declared.strip()
    match = _CODE_RE.match(value)
    try:
        if match is None:
            return Language.from_str(value).iso_code_639_1.name.lower()
        code = match.group(0).upper()
        if len(code) == 2:
            return IsoCode639_1.from_str(code).name.lower()
        return Language.from_iso_code_639_3(IsoCode639_3.from_str(code)).iso_code_639_1.name.lower()
    except ValueError:
        return None
