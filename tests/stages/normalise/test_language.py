"""Tests of language detection and of the normalisation of declared language codes."""

# ruff: noqa: RUF001  (the test texts are in other scripts on purpose)

from __future__ import annotations

import time

import pytest

from pipeline.stages.normalise import language
from pipeline.stages.normalise.language import MAX_DETECT_CHARS, detect_language, language_code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The regional council approved the new budget after a long debate on Tuesday.", "en"),
        ("Der Stadtrat hat am Dienstag nach langer Debatte den neuen Haushalt beschlossen.", "de"),
        ("Le conseil municipal a adopté mardi le nouveau budget après un long débat.", "fr"),
        ("El ayuntamiento aprobó el martes el nuevo presupuesto tras un largo debate.", "es"),
        ("Городской совет во вторник после долгих дебатов утвердил новый бюджет.", "ru"),
        ("Міська рада у вівторок після тривалих дебатів ухвалила новий бюджет.", "uk"),
        ("Rada miasta przyjęła we wtorek nowy budżet po długiej debacie.", "pl"),
        ("Belediye meclisi salı günü uzun bir tartışmanın ardından yeni bütçeyi onayladı.", "tr"),
        ("市议会周二经过长时间辩论后批准了新的预算。", "zh"),
        ("市議会は火曜日、長い議論の末に新しい予算を承認した。", "ja"),
        ("مجلس المدينة وافق يوم الثلاثاء على الميزانية الجديدة بعد نقاش طويل.", "ar"),
    ],
)
def test_detects_major_languages(text: str, expected: str) -> None:
    # Article-length text: from 120 characters on lingua needs only its trigram models, which
    # load in a fraction of a second (shorter texts load all n-gram models: seconds, ~700 MB).
    assert detect_language(" ".join([text] * 3)) == expected


@pytest.mark.parametrize("text", ["", "   ", "12345 678", "!!! ???", "---", "2020-01-01 12:00"])
def test_undecidable_text_gives_none(text: str) -> None:
    assert detect_language(text) is None


def test_only_the_beginning_is_examined() -> None:
    english = "The harbour master said the ferries would run again next week. " * 40
    german = "Der Hafenmeister sagte, die Fähren würden nächste Woche wieder fahren. " * 400
    assert len(english) >= MAX_DETECT_CHARS
    assert detect_language(english + german) == "en"


def test_a_caller_can_examine_a_shorter_beginning() -> None:
    english = "The harbour master said the ferries would run again next week. " * 4
    german = "Der Hafenmeister sagte, die Fähren würden nächste Woche wieder fahren. " * 40
    assert detect_language(english + german) == "de"
    assert detect_language(english + german, max_chars=len(english)) == "en"


def test_detector_is_built_once() -> None:
    assert language._detector() is language._detector()


def test_detection_is_fast() -> None:
    text = "The harbour master said the ferries would run again next week. " * 100
    detect_language(text)
    start = time.perf_counter()
    for _ in range(20):
        detect_language(text)
    assert (time.perf_counter() - start) / 20 < 0.05


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("en", "en"),
        ("EN-gb", "en"),
        ("pt_BR", "pt"),
        ("zh-Hant", "zh"),
        ("deu", "de"),
        ("eng", "en"),
        ("German", "de"),
        (" french ", "fr"),
        ("fr.UTF-8", "fr"),
        ("xx", None),
        ("klingon", None),
        ("", None),
        ("e", None),
    ],
)
def test_language_code(declared: str, expected: str | None) -> None:
    assert language_code(declared) == expected
