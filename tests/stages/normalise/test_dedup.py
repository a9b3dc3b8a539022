"""Tests of the duplicate-detection stage (all texts invented for these tests)."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import struct
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.stages.normalise.dedup import Duplicate, DuplicateIndex, DuplicateKind
from pipeline.stages.normalise.minhash import (
    MIN_WORDS,
    estimate_similarity,
    fingerprint_words,
    signature,
)

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
DAY = 86_400.0

ORIGINAL = """\
The Port Ellery Harbour Authority on Tuesday approved a 40-million-euro expansion of the \
town's container terminal, ending a two-year dispute with residents who had warned that \
round-the-clock cranes would make the waterfront unliveable.

Under the plan, the quay will be lengthened by 220 metres and two electric cranes will be \
installed by the end of next year. The authority said the work would allow ships of up to \
9,000 containers to dock without waiting offshore, which currently adds about a day to each \
call.

"This is the most important investment in the harbour since the 1970s," said Marta \
Kovalenko, who chairs the authority's board. She said that the terminal had turned away \
eleven vessels last year because the berth was too short.

Residents of the Old Quay district, who collected more than 3,000 signatures against the \
project, said they were disappointed but would not go to court. Their spokesman, Tomas \
Reilly, said the group had won important concessions, including a ban on night-time loading \
at weekends and a noise barrier along Harbour Road.

The regional government is expected to contribute 12 million euros, with the rest coming \
from a loan by the European Investment Bank. Construction is due to begin in the spring, and \
the authority expects the first larger ships to arrive in early 2028.

Work on the terminal will be carried out in two phases so that the existing berth can stay \
open. The first phase, covering the northern half of the quay, is scheduled to take nine \
months, the authority said in a planning document seen by local councillors.

Local shipping agents welcomed the decision. Freight volumes through Port Ellery rose by 14 \
percent last year, according to figures published by the authority in January, making it \
the fastest-growing port on the coast.
"""

# Republished elsewhere under another headline: two sentences reworded, boilerplate added.
SYNDICATED = (
    ORIGINAL.replace(
        "The authority said the work would allow ships of up to 9,000 containers to dock "
        "without waiting offshore, which currently adds about a day to each call.",
        "The authority said the work would let ships carrying up to 9,000 containers dock "
        "without waiting offshore, which at present adds about a day to each call.",
    ).replace(
        "The regional government is expected to contribute 12 million euros, with the rest "
        "coming from a loan by the European Investment Bank.",
        "The regional government is set to provide 12 million euros, and the remainder will "
        "come from a European Investment Bank loan.",
    )
    + "\nThis story was first published by the Ellery Coast Gazette and is republished here "
    "with permission. Subscribe to our newsletter for more regional business news.\n"
)

# A copy of the syndicated copy: one more sentence changed, another outlet's footer.
SYNDICATED_AGAIN = SYNDICATED.replace(
    "Local shipping agents welcomed the decision.",
    "Shipping agents in the town were quick to welcome the decision.",
).replace(
    "This story was first published by the Ellery Coast Gazette",
    "This article originally appeared in the Northern Ports Review",
)

# Another story on the same subject: same people, places and some phrases, different text.
SAME_SUBJECT = """\
About 400 residents of Port Ellery marched along Harbour Road on Saturday to protest against \
the container terminal expansion approved by the Port Ellery Harbour Authority last week.

Tomas Reilly, the spokesman for the Old Quay residents' group, told the crowd that the \
concessions on night-time loading did not go far enough. "We were promised a quieter \
waterfront, and we got round-the-clock cranes instead," Reilly said.

Marta Kovalenko, who chairs the authority's board, did not attend the march. In a statement, \
she said that the authority would publish noise measurements every month once construction \
starts and would meet residents before the end of the year.

Police said the march was peaceful. Several shop owners on the seafront closed early, and a \
small group of dock workers held a counter-demonstration in support of the project, which \
they said would secure jobs at the terminal for a generation.

The European Investment Bank, which is expected to lend most of the money, has not yet \
signed the loan agreement. A bank official said that an environmental review of the \
40-million-euro plan was still under way.
"""

SHORT = "Storm warning issued for the northern coast; ferries cancelled until Friday morning."


def content_hash(body: str) -> str:
    data = " ".join(body.split()).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def check(
    index: DuplicateIndex,
    article_id: str,
    body: str,
    *,
    url: str | None = None,
    at: float = T0,
    hash_: str | None = None,
) -> Duplicate | None:
    return index.check(
        article_id=article_id,
        canonical_url=url if url is not None else f"https://news.example/{article_id}",
        content_hash=hash_ if hash_ is not None else content_hash(body),
        body=body,
        seen_at=at,
    )


class StrictStore(MutableMapping[str, Any]):
    """A store like a changelog-backed table: values go through JSON."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def __getitem__(self, key: str) -> Any:
        return json.loads(self.data[key])

    def __setitem__(self, key: str, value: Any) -> None:
        assert isinstance(key, str)
        self.data[key] = json.dumps(value, allow_nan=False)

    def __delitem__(self, key: str) -> None:
        del self.data[key]

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)


@pytest.fixture
def store() -> dict[str, Any]:
    return {}


@pytest.fixture
def index(store: dict[str, Any]) -> DuplicateIndex:
    return DuplicateIndex(store)


# -- the answers -----------------------------------------------------------------------------


def test_first_copy_is_not_a_duplicate(index: DuplicateIndex) -> None:
    assert check(index, "a", ORIGINAL) is None
    assert len(index) == 1


def test_same_url_is_a_url_duplicate(index: DuplicateIndex) -> None:
    url = "https://www.example-news.com/2026/01/port-ellery-terminal"
    check(index, "a", ORIGINAL, url=url)
    updated = ORIGINAL.replace("Tuesday", "Tuesday evening")
    assert check(index, "b", updated, url=url, at=T0 + 60) == Duplicate("a", DuplicateKind.URL, 1.0)


def test_same_body_at_another_url_is_a_content_duplicate(index: DuplicateIndex) -> None:
    check(index, "a", ORIGINAL)
    assert check(index, "b", ORIGINAL, at=T0 + 60) == Duplicate("a", DuplicateKind.CONTENT, 1.0)


def test_syndicated_copy_is_a_near_duplicate(index: DuplicateIndex) -> None:
    check(index, "a", ORIGINAL)
    answer = check(index, "b", SYNDICATED, at=T0 + 3600)
    assert answer is not None
    assert (answer.of, answer.kind) == ("a", DuplicateKind.NEAR)
    assert 0.8 <= answer.similarity < 1.0


def test_syndicated_copy_without_known_boilerplate_is_still_near(index: DuplicateIndex) -> None:
    check(index, "a", ORIGINAL)
    unknown_footer = SYNDICATED.replace(
        "This story was first published by the Ellery Coast Gazette and is republished here "
        "with permission. Subscribe to our newsletter for more regional business news.",
        "The Gazette is an independent newsroom owned by its readers.",
    )
    answer = check(index, "b", unknown_footer, at=T0 + 3600)
    assert answer is not None
    assert (answer.of, answer.kind) == ("a", DuplicateKind.NEAR)


def test_another_story_on_the_same_subject_is_not_a_duplicate(index: DuplicateIndex) -> None:
    check(index, "a", ORIGINAL)
    assert check(index, "b", SAME_SUBJECT, at=T0 + DAY) is None
    sig_a, sig_b = signature(ORIGINAL), signature(SAME_SUBJECT)
    assert sig_a is not None
    assert sig_b is not None
    assert estimate_similarity(sig_a, sig_b) < 0.3


def test_copy_of_a_copy_points_to_the_first(index: DuplicateIndex) -> None:
    check(index, "a", ORIGINAL)
    assert check(index, "b", SYNDICATED, at=T0 + 60) is not None
    near = check(index, "c", SYNDICATED_AGAIN, at=T0 + 120)
    assert near is not None
    assert (near.of, near.kind) == ("a", DuplicateKind.NEAR)
    # exact copies of the copy resolve to the first copy too
    assert check(index, "d", SYNDICATED, at=T0 + 180) == Duplicate("a", DuplicateKind.CONTENT, 1.0)
    assert check(index, "e", "x", url="https://news.example/b", at=T0 + 240) == Duplicate(
        "a", DuplicateKind.URL, 1.0
    )


def test_the_best_matching_candidate_wins(index: DuplicateIndex) -> None:
    check(index, "a", ORIGINAL)
    check(index, "other", SAME_SUBJECT, at=T0 + 1)
    answer = check(index, "b", SYNDICATED, at=T0 + 2)
    assert answer is not None
    assert answer.of == "a"


def test_short_bodies_only_match_exactly(index: DuplicateIndex) -> None:
    assert len(fingerprint_words(SHORT)) < MIN_WORDS
    assert signature(SHORT) is None
    check(index, "a", SHORT)
    assert check(index, "b", SHORT.replace("Friday", "Saturday"), at=T0 + 1) is None
    assert check(index, "c", SHORT, at=T0 + 2) == Duplicate("a", DuplicateKind.CONTENT, 1.0)


def test_empty_body_and_no_url(index: DuplicateIndex) -> None:
    first = index.check(article_id="a", canonical_url=None, content_hash="h", body="", seen_at=T0)
    again = index.check(article_id="b", canonical_url=None, content_hash="h", body="", seen_at=T0)
    assert first is None
    assert again == Duplicate("a", DuplicateKind.CONTENT, 1.0)


# -- reprocessing ----------------------------------------------------------------------------


def test_rechecking_the_same_article_is_idempotent(
    index: DuplicateIndex, store: dict[str, Any]
) -> None:
    first = [check(index, "a", ORIGINAL), check(index, "b", SYNDICATED, at=T0 + 60)]
    snapshot = copy.deepcopy(store)
    again = [check(index, "a", ORIGINAL, at=T0 + 600), check(index, "b", SYNDICATED, at=T0 + 660)]
    assert first[0] is None
    assert again == first
    assert store == snapshot  # nothing recorded twice


def test_one_journal_value_per_article(index: DuplicateIndex, store: dict[str, Any]) -> None:
    check(index, "a", ORIGINAL)
    check(index, "b", SYNDICATED, at=T0 + 1)
    check(index, "c", SHORT, at=T0 + 2)
    assert sorted(store) == ["a:a", "a:b", "a:c"]


def test_a_restarted_worker_remembers(store: dict[str, Any]) -> None:
    check(DuplicateIndex(store), "a", ORIGINAL)
    restored = json.loads(json.dumps(store))  # as read back from the changelog
    answer = check(DuplicateIndex(restored), "b", SYNDICATED, at=T0 + 60)
    assert answer is not None
    assert answer.of == "a"


# -- records written elsewhere ---------------------------------------------------------------


def test_another_workers_records_are_observed() -> None:
    theirs: dict[str, Any] = {}
    other, index = DuplicateIndex(theirs), DuplicateIndex({})
    check(other, "a", ORIGINAL)
    check(other, "b", SYNDICATED, at=T0 + 1)
    for key, value in json.loads(json.dumps(theirs)).items():  # through their changelog
        index.observe(key, value)
    assert len(index) == 2
    answer = check(index, "c", SYNDICATED_AGAIN, at=T0 + 2)
    assert answer is not None
    assert (answer.of, answer.kind) == ("a", DuplicateKind.NEAR)
    assert check(index, "b", SYNDICATED, at=T0 + 3) == check(other, "b", SYNDICATED, at=T0 + 3)


def test_a_record_deleted_elsewhere_is_forgotten(store: dict[str, Any]) -> None:
    index = DuplicateIndex(store)
    check(index, "a", ORIGINAL, url="https://news.example/story")
    index.observe("a:a", None)
    assert len(index) == 0
    assert check(index, "b", ORIGINAL, url="https://news.example/story", at=T0 + 1) is None
    answer = check(index, "c", SYNDICATED, at=T0 + 2)
    assert answer is not None
    assert answer.of == "b"


def test_own_records_coming_back_change_nothing(
    index: DuplicateIndex, store: dict[str, Any]
) -> None:
    """A Faust global table reads its own writes back from the changelog, some of them after
    later writes. Every article still counts once and keeps its answer."""
    bodies = [f"Story {i}. " + " ".join(f"word{i}x{j}" for j in range(60)) for i in range(30)]
    echoes: list[tuple[str, Any]] = []
    for i, body in enumerate(bodies):
        check(index, f"s{i}", body, at=T0 + i)
        echoes.append((f"a:s{i}", json.loads(json.dumps(store[f"a:s{i}"]))))
        if i % 7 == 6:  # the changelog comes back in bursts, late
            for key, value in echoes:
                index.observe(key, value)
            echoes.clear()
    snapshot = copy.deepcopy(store)
    for key, value in snapshot.items():
        index.observe(key, value)
    assert len(index) == 30
    assert store == snapshot
    assert check(index, "copy", bodies[3], at=T0 + 40) == Duplicate(
        "s3", DuplicateKind.CONTENT, 1.0
    )


def test_malformed_and_foreign_records_are_skipped(index: DuplicateIndex) -> None:
    check(index, "a", ORIGINAL)
    index.observe("a:x", {"t": "yesterday"})
    index.observe("a:y", [1, 2, 3])
    index.observe("a:z", {"t": T0, "u": None, "h": "h", "s": "not base64!", "r": 5, "d": None})
    index.observe("a:w", {"t": T0, "u": None, "h": "h", "s": None, "r": 5, "d": ["a", "?", 1]})
    index.observe("b:5:0:abcdef", [["a", T0]])  # a bucket of an older layout
    index.observe("q", [4, 0])
    assert len(index) == 1
    assert check(index, "b", ORIGINAL, at=T0 + 1) == Duplicate("a", DuplicateKind.CONTENT, 1.0)


# -- bounded state ---------------------------------------------------------------------------


def test_entries_outside_the_window_are_ignored_and_deleted(store: dict[str, Any]) -> None:
    index = DuplicateIndex(store, window_s=DAY)
    check(index, "a", ORIGINAL, url="https://news.example/story")
    assert check(index, "b", ORIGINAL, url="https://news.example/other", at=T0 + DAY - 1) == (
        Duplicate("a", DuplicateKind.CONTENT, 1.0)
    )
    late = T0 + 2 * DAY
    assert check(index, "c", SYNDICATED, at=late) is None
    assert check(index, "d", "x", url="https://news.example/story", at=late) is None
    assert "a:a" not in store  # forgotten when touched
    assert "a:b" not in store  # swept, oldest first
    assert check(index, "e", "y", url="https://news.example/story", at=late + 1) == (
        Duplicate("d", DuplicateKind.URL, 1.0)  # the URL now points to the live copy
    )


def test_evict_sweeps_expired_articles(store: dict[str, Any]) -> None:
    index = DuplicateIndex(store, window_s=DAY)
    for i in range(5):
        check(index, f"old{i}", " ".join(f"w{i}x{j}" for j in range(60)), at=T0 + i)
    check(index, "new", SAME_SUBJECT, at=T0 + 3 * DAY)  # sweeps SWEEP_PER_CHECK of them
    assert len(index) == 4
    assert index.evict(T0 + 3 * DAY) == 3
    assert len(index) == 1
    assert list(store) == ["a:new"]
    assert index.evict(T0 + 3 * DAY) == 0
    assert check(index, "again", "w0x0", at=T0 + 3 * DAY) is None


def test_size_cap(store: dict[str, Any]) -> None:
    index = DuplicateIndex(store, max_entries=3)
    bodies = [f"Story {i}. " + " ".join(f"word{i}x{j}" for j in range(60)) for i in range(10)]
    for i, body in enumerate(bodies):
        assert check(index, f"s{i}", body, at=T0 + i) is None
        assert len(index) <= 3
        assert len(store) <= 3
    # the oldest are forgotten, the newest still recognised
    assert check(index, "copy-old", bodies[0], url="https://x.example/0", at=T0 + 20) is None
    assert check(index, "copy-new", bodies[9], url="https://x.example/9", at=T0 + 21) == (
        Duplicate("s9", DuplicateKind.CONTENT, 1.0)
    )


def test_lowering_the_cap_later_evicts_gradually(store: dict[str, Any]) -> None:
    index = DuplicateIndex(store)
    for i in range(40):
        check(index, f"s{i}", f"body {i}", at=T0 + i)
    capped = DuplicateIndex(store, max_entries=5)
    check(capped, "next", "body next", at=T0 + 50)
    assert len(capped) == 41 - 16
    assert capped.evict(T0 + 50) == 41 - 16 - 5
    assert len(capped) == 5


# -- the store -------------------------------------------------------------------------------


def test_store_values_are_json(index: DuplicateIndex, store: dict[str, Any]) -> None:
    check(index, "a", ORIGINAL)
    check(index, "b", SYNDICATED, at=T0 + 1)
    check(index, "c", SHORT, url=None, at=T0 + 2)
    check(index, "d", SAME_SUBJECT, at=T0 + 3)
    assert all(isinstance(k, str) for k in store)
    assert json.loads(json.dumps(dict(store), allow_nan=False)) == store


def test_works_on_a_json_store() -> None:
    strict = StrictStore()
    index = DuplicateIndex(strict, window_s=DAY, max_entries=3)
    check(index, "a", ORIGINAL)
    answer = check(index, "b", SYNDICATED, at=T0 + 1)
    assert answer is not None
    assert answer.of == "a"
    assert check(index, "b", SYNDICATED, at=T0 + 2) == answer
    for i in range(6):
        check(index, f"n{i}", SAME_SUBJECT + f" Update {i}.", at=T0 + 2 * DAY + i)
    assert index.evict(T0 + 10 * DAY) == 3
    assert len(strict) == 0


def test_signature_is_stable() -> None:
    """Signatures are stored; a change of the fingerprint must be deliberate (new key prefix)."""
    sig = signature(ORIGINAL)
    assert sig is not None
    stored = base64.b64encode(struct.pack(f"<{len(sig)}I", *sig))
    assert hashlib.sha256(stored).hexdigest()[:16] == "0d19816991760c92"


def test_boilerplate_is_left_out_of_the_fingerprint() -> None:
    words = fingerprint_words(SYNDICATED)
    assert "newsletter" not in words
    assert "gazette" not in words
    assert "published" in words  # "figures published by the authority" is news, not boilerplate


def test_settings_are_validated(store: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="threshold"):
        DuplicateIndex(store, threshold=0)
    with pytest.raises(ValueError, match="window_s"):
        DuplicateIndex(store, window_s=0)
    with pytest.raises(ValueError, match="max_entries"):
        DuplicateIndex(store, max_entries=0)


def test_kinds_are_plain_strings() -> None:
    assert [str(k) for k in DuplicateKind] == ["url", "content", "near"]
    with pytest.raises(AttributeError):
        Duplicate("a", DuplicateKind.URL, 1.0).of = "b"  # type: ignore[misc]


# -- properties ------------------------------------------------------------------------------

_ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=400)
_WORDS = st.lists(st.from_regex(r"[A-Za-z]{1,9}", fullmatch=True), min_size=MIN_WORDS, max_size=120)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d"]),
            st.one_of(st.none(), st.sampled_from(["", "https://x.example/1", "u"])),
            _ANY_TEXT,
            st.floats(-1e10, 1e10, allow_nan=False),
        ),
        min_size=1,
        max_size=8,
    ),
    st.one_of(st.none(), st.integers(1, 3)),
)
def test_check_never_raises(
    calls: list[tuple[str, str | None, str, float]], max_entries: int | None
) -> None:
    store: dict[str, Any] = {}
    index = DuplicateIndex(store, window_s=1000.0, max_entries=max_entries)
    for article_id, url, body, at in calls:
        answer = index.check(
            article_id=article_id,
            canonical_url=url,
            content_hash=content_hash(body),
            body=body,
            seen_at=at,
        )
        assert answer is None or answer.of != article_id
    index.evict(1e11)
    assert json.loads(json.dumps(store)) == store


@settings(max_examples=100, deadline=None)
@given(_ANY_TEXT, _WORDS, _ANY_TEXT)
def test_identical_bodies_are_always_flagged(prefix: str, words: list[str], suffix: str) -> None:
    body = f"{prefix} {' '.join(words)} {suffix}"
    index = DuplicateIndex({})
    assert check(index, "a", body) is None
    # the same bytes: an exact match
    assert check(index, "b", body, at=T0 + 1) == Duplicate("a", DuplicateKind.CONTENT, 1.0)
    # the same text under another hash (say the producer normalised it differently): near
    answer = check(index, "c", body, hash_="other", at=T0 + 2)
    assert answer == Duplicate("a", DuplicateKind.NEAR, 1.0)
