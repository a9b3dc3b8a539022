"""Measure the duplicate detector on a folder of real articles (one ``.txt`` per article).

Usage: ``python bench/eval_dedup.py DATA_DIR [--limit N] [--seed S] [--threshold T]``

Each file is read as a headline line followed by the body (the BBC News layout). The script
prints, without copying any text anywhere:

1. real articles: what the index flags among them, checked against the exact Jaccard
   similarity of every pair's shingle sets (false positives, false negatives);
2. recall on syndicated variants generated at runtime from those articles (new headline,
   reworded sentences, a swapped sentence pair, an added boilerplate paragraph);
3. the cost per article of ``DuplicateIndex.check`` and of ``signature`` alone.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from pipeline.stages.normalise.dedup import DuplicateIndex, DuplicateKind
from pipeline.stages.normalise.minhash import MIN_WORDS, SHINGLE_WORDS, fingerprint_words, signature

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_FILLER = ["also", "reportedly", "further", "major", "key", "new", "local", "largely"]
_KNOWN_BOILERPLATE = (
    "This story was first published by The Example Courier and is republished here under a "
    "content-sharing agreement. Subscribe to our newsletter for the day's top stories."
)
_UNKNOWN_BOILERPLATE = (
    "The Valley Ledger is an independent, reader-funded newsroom covering the region since "
    "1998. Support local journalism: become a member today."
)


@dataclass(frozen=True, slots=True)
class Doc:
    id: str
    title: str
    body: str
    content_hash: str


def load(data_dir: Path, limit: int | None) -> list[Doc]:
    docs = []
    for path in sorted(data_dir.rglob("*.txt")):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        title, _, body = text.strip().partition("\n")
        body = body.strip()
        normalised = " ".join(body.split())
        digest = hashlib.sha256(normalised.encode()).hexdigest()
        docs.append(Doc(path.relative_to(data_dir).as_posix(), title.strip(), body, digest))
    return docs[:limit] if limit else docs


def shingles(body: str) -> set[str]:
    words = fingerprint_words(body)
    k = SHINGLE_WORDS
    return {" ".join(words[i : i + k]) for i in range(len(words) - k + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 1.0 if a == b else 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def check_all(
    index: DuplicateIndex, docs: list[Doc], ids: list[str] | None = None
) -> dict[str, Any]:
    answers = {}
    for n, doc in enumerate(docs):
        article_id = doc.id if ids is None else ids[n]
        answers[article_id] = index.check(
            article_id=article_id,
            canonical_url=f"https://news.example/{article_id}",
            content_hash=doc.content_hash,
            body=doc.body,
            seen_at=1_700_000_000.0 + n,
        )
    return answers


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# -- 1. real articles ------------------------------------------------------------------------


def evaluate_real(docs: list[Doc], threshold: float) -> None:
    print(f"== 1. Real articles: {len(docs)} files ==")
    by_hash: dict[str, list[str]] = {}
    for doc in docs:
        by_hash.setdefault(doc.content_hash, []).append(doc.id)
    exact_groups = [ids for ids in by_hash.values() if len(ids) > 1]
    print(
        f"distinct bodies: {len(by_hash)}; byte-identical groups: {len(exact_groups)} "
        f"({sum(len(g) - 1 for g in exact_groups)} extra copies)"
    )

    store: dict[str, Any] = {}
    answers = check_all(DuplicateIndex(store, threshold=threshold), docs)
    flagged = {k: v for k, v in answers.items() if v is not None}
    kinds = {kind: sum(v.kind is kind for v in flagged.values()) for kind in DuplicateKind}
    print(f"flagged: {len(flagged)}  by kind: {', '.join(f'{k}={n}' for k, n in kinds.items())}")

    # Ground truth among distinct bodies: exact Jaccard of every pair.
    distinct = [next(d for d in docs if d.id == ids[0]) for ids in by_hash.values()]
    sets = {d.id: shingles(d.body) for d in distinct}
    long_enough = [d for d in distinct if len(fingerprint_words(d.body)) >= MIN_WORDS]
    started = time.perf_counter()
    close: list[tuple[float, str, str]] = []
    for a, b in itertools.combinations(long_enough, 2):
        j = jaccard(sets[a.id], sets[b.id])
        if j >= 0.5:
            close.append((j, a.id, b.id))
    print(
        f"exact Jaccard over {len(long_enough) * (len(long_enough) - 1) // 2} pairs of distinct "
        f"bodies ({time.perf_counter() - started:.1f} s): "
        f"{sum(j >= threshold for j, _, _ in close)} pairs >= {threshold}, "
        f"{sum(j < threshold for j, _, _ in close)} pairs in [0.5, {threshold})"
    )
    group = {doc.id: doc.id for doc in docs}
    for article_id, answer in flagged.items():
        group[article_id] = answer.of
    for j, first, second in sorted(close, reverse=True):
        same = group[first] == group[second]
        verdict = "flagged" if same else "not flagged"
        expected = "ok" if same == (j >= threshold) else ("extra" if same else "MISSED")
        print(f"  J={j:.3f}  {first} ~ {second}: {verdict} ({expected})")
    bodies = {doc.id: doc.body for doc in docs}
    near = [(k, v.of) for k, v in flagged.items() if v.kind is DuplicateKind.NEAR]
    scored = [(k, of, jaccard(shingles(bodies[k]), shingles(bodies[of]))) for k, of in near]
    below = [x for x in scored if x[2] < threshold]
    print(
        f"near flags: {len(near)}; with true J < {threshold}: {len(below)} "
        f"(of which J < 0.5, i.e. unrelated stories: {sum(x[2] < 0.5 for x in below)})"
    )
    for k, of, j in below:
        print(f"  {k} -> {of}: true J={j:.3f}")


# -- 2. synthetic syndicated variants --------------------------------------------------------


def reword(sentence: str, rng: random.Random) -> str:
    """A light rewording: one word replaced, one dropped, one inserted."""
    words = sentence.split()
    if len(words) < 4:
        return sentence
    words[rng.randrange(len(words))] = rng.choice(_FILLER)
    del words[rng.randrange(len(words))]
    words.insert(rng.randrange(len(words) + 1), rng.choice(_FILLER))
    return " ".join(words)


def make_variant(
    doc: Doc, rng: random.Random, *, changed: int, boilerplate: str, drop_last: bool = False
) -> Doc:
    paragraphs = [_SENTENCE.split(p.strip()) for p in doc.body.split("\n") if p.strip()]
    if drop_last and len(paragraphs) > 3:
        paragraphs = paragraphs[:-1]
    positions = [(i, j) for i, p in enumerate(paragraphs) for j in range(len(p))]
    for i, j in rng.sample(positions, min(changed, len(positions))):
        paragraphs[i][j] = reword(paragraphs[i][j], rng)
    swappable = [i for i, p in enumerate(paragraphs) if len(p) >= 2]
    if swappable:
        i = rng.choice(swappable)
        j = rng.randrange(len(paragraphs[i]) - 1)
        paragraphs[i][j], paragraphs[i][j + 1] = paragraphs[i][j + 1], paragraphs[i][j]
    body = "\n\n".join(" ".join(p) for p in paragraphs) + "\n\n" + boilerplate
    digest = hashlib.sha256(" ".join(body.split()).encode()).hexdigest()
    return Doc("v:" + doc.id, "Syndicated: " + doc.title.lower(), body, digest)


def evaluate_variants(docs: list[Doc], threshold: float, seed: int) -> None:
    originals = list({d.content_hash: d for d in docs}.values())
    originals = [d for d in originals if len(fingerprint_words(d.body)) >= MIN_WORDS]
    print(f"\n== 2. Synthetic syndicated variants of {len(originals)} distinct articles ==")
    print("(the headline is changed too, but the index only sees the body)")
    recipes: list[tuple[str, Callable[[Doc, random.Random], Doc]]] = [
        (
            "2 reworded sentences + swap + known boilerplate",
            lambda d, r: make_variant(d, r, changed=2, boilerplate=_KNOWN_BOILERPLATE),
        ),
        (
            "2 reworded sentences + swap + unknown boilerplate",
            lambda d, r: make_variant(d, r, changed=2, boilerplate=_UNKNOWN_BOILERPLATE),
        ),
        (
            "4 reworded + swap + last paragraph cut + unknown boilerplate",
            lambda d, r: make_variant(
                d, r, changed=4, boilerplate=_UNKNOWN_BOILERPLATE, drop_last=True
            ),
        ),
    ]
    for name, recipe in recipes:
        rng = random.Random(seed)
        variants = [recipe(d, rng) for d in originals]
        store: dict[str, Any] = {}
        index = DuplicateIndex(store, threshold=threshold)
        first = check_all(index, originals)
        # An original that is itself a near copy of another article has that one as its root.
        roots = [o.id if (a := first[o.id]) is None else a.of for o in originals]
        answers = check_all(index, variants, [v.id for v in variants])
        truth = [
            jaccard(shingles(o.body), shingles(v.body))
            for o, v in zip(originals, variants, strict=True)
        ]
        hit = [
            (a := answers[v.id]) is not None and a.of == root
            for root, v in zip(roots, variants, strict=True)
        ]
        bodies = {d.id: d.body for d in [*originals, *variants]}
        other = [
            (v.id, a.of, jaccard(shingles(v.body), shingles(bodies[a.of])))
            for root, v in zip(roots, variants, strict=True)
            if (a := answers[v.id]) is not None and a.of != root
        ]
        above = [h for h, j in zip(hit, truth, strict=True) if j >= threshold]
        print(f"- {name}:")
        print(
            f"    recall {sum(hit) / len(hit):.3f} ({sum(hit)}/{len(hit)}),"
            f" other target {len(other)};"
            f" true J p5/p50 {percentile(truth, 0.05):.3f}/{percentile(truth, 0.5):.3f};"
            f" {len(above)} variants with true J >= {threshold}: recall "
            f"{sum(above) / max(1, len(above)):.3f}"
        )
        for variant_id, of, j in other:
            print(f"    other target: {variant_id} -> {of} (true J {j:.3f})")
        short = [
            h for h, o in zip(hit, originals, strict=True) if len(fingerprint_words(o.body)) < 200
        ]
        if short:
            print(f"    recall on bodies < 200 words: {sum(short) / len(short):.3f} ({len(short)})")


# -- 3. cost ---------------------------------------------------------------------------------


def evaluate_cost(docs: list[Doc], threshold: float, passes: int = 3) -> None:
    print(f"\n== 3. Cost per article (pure Python, dict store; best of {passes} passes) ==")
    words = [len(d.body.split()) for d in docs]
    check_us = [float("inf")] * len(docs)
    sig_us = [float("inf")] * len(docs)
    for _ in range(passes):  # each pass repeats the same work; the minimum drops the noise
        store: dict[str, Any] = {}
        index = DuplicateIndex(store, threshold=threshold)
        for n, doc in enumerate(docs):
            started = time.perf_counter_ns()
            index.check(
                article_id=doc.id,
                canonical_url=f"https://news.example/{doc.id}",
                content_hash=doc.content_hash,
                body=doc.body,
                seen_at=1_700_000_000.0 + n,
            )
            check_us[n] = min(check_us[n], (time.perf_counter_ns() - started) / 1000)
        for n, doc in enumerate(docs):
            started = time.perf_counter_ns()
            signature(doc.body)
            sig_us[n] = min(sig_us[n], (time.perf_counter_ns() - started) / 1000)
    print(
        f"articles: {len(docs)}, words mean {statistics.mean(words):.0f}, "
        f"median {statistics.median(words):.0f}"
    )
    print(
        f"check(): mean {statistics.mean(check_us):.0f} us, p50 {percentile(check_us, 0.5):.0f},"
        f" p95 {percentile(check_us, 0.95):.0f}, max {max(check_us):.0f} us"
    )
    print(f"signature() alone: mean {statistics.mean(sig_us):.0f} us")
    band = [(c, w) for c, w in zip(check_us, words, strict=True) if 500 <= w <= 700]
    if band:
        mean_words = statistics.mean(w for _, w in band)
        print(
            f"check() on {len(band)} articles of 500-700 words (mean {mean_words:.0f}): "
            f"mean {statistics.mean(c for c, _ in band) / 1000:.2f} ms"
        )
    per_word = statistics.mean(c / w for c, w in zip(check_us, words, strict=True) if w)
    print(f"=> about {per_word * 600 / 1000:.2f} ms per 600-word article")
    print(f"store after {len(docs)} articles: {len(store)} keys")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N files")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threshold", type=float, default=0.8)
    args = parser.parse_args(argv)
    docs = load(args.data_dir, args.limit)
    if not docs:
        print(f"no .txt files under {args.data_dir}", file=sys.stderr)
        return 2
    evaluate_real(docs, args.threshold)
    evaluate_variants(docs, args.threshold, args.seed)
    evaluate_cost(docs, args.threshold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
