"""Accuracy of the IPTC stage's best top-level code on BBC News, through the offline enrich path,
and the topic stage's throughput.

Usage::

    python bench/eval_topics.py PATH [--model FILE] [--limit N] [--errors N]
    python bench/eval_topics.py PATH --cv 5 [--polnear DIR] [training options]

``PATH`` is a BBC News folder (``business/``, ``entertainment/``, ``politics/``, ``sport/``,
``tech/``, one article per ``.txt``, first line the title). Each article goes through
``Enricher.process`` (what ``mediamon enrich`` and the worker run) as ``{"title", "body"}``; its
prediction is the highest-scoring top-level IPTC topic of the event, compared with the category's
code: business -> medtop:04000000 economy, business and finance; entertainment ->
medtop:01000000 arts, culture, entertainment and media; politics -> medtop:11000000 politics;
sport -> medtop:15000000 sport; tech -> medtop:13000000 science and technology. All 17
top-level codes compete, so a story the lexicons call crime or labour counts as an error.

Without ``--cv`` the shipped weights (or ``--model``) score every article: on articles the
weights were trained on that is a training figure, on held-out ones the real one. With
``--cv N`` each of N folds (``scripts/train_iptc.py``'s split) is scored by weights trained on
the other folds, with the same training options. Throughput is the enricher's own ``topics``
stage time (places, IPTC codes, taxonomy tags) over the articles scored. Nothing of the data
is written.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout
sys.path.insert(0, str(ROOT / "scripts"))

import train_iptc  # noqa: E402

from pipeline.enrich import Enricher  # noqa: E402
from pipeline.metrics import Metrics  # noqa: E402
from pipeline.models import EnrichedEvent, RawRecord  # noqa: E402
from pipeline.settings import Settings  # noqa: E402

BATCH = 32


@dataclass(slots=True)
class Scored:
    doc: train_iptc.Doc
    predicted: str | None
    codes: int
    second_level: int
    tags: int


@dataclass(slots=True)
class Run:
    scored: list[Scored]
    topic_seconds: float
    total_seconds: float


def score(docs: list[train_iptc.Doc], settings: Settings) -> Run:
    """Every article through the enricher; the best top-level IPTC code of each event."""
    metrics = Metrics()
    enricher = Enricher(settings, metrics=metrics)
    enricher.warm_up()
    before = _topic_seconds(metrics)
    started = time.perf_counter()
    scored = []
    for i in range(0, len(docs), BATCH):
        batch = docs[i : i + BATCH]
        records = [RawRecord(value=orjson.dumps({"title": d.title, "body": d.body})) for d in batch]
        for doc, outcome in zip(batch, enricher.process(records), strict=True):
            scored.append(_scored(doc, outcome))
    total = time.perf_counter() - started
    return Run(scored, _topic_seconds(metrics) - before, total)


def _scored(doc: train_iptc.Doc, outcome: object) -> Scored:
    if not isinstance(outcome, EnrichedEvent):
        return Scored(doc, None, 0, 0, 0)
    top = [t for t in outcome.topics if t.scheme == "iptc" and t.parent is None]
    best = max(top, key=lambda t: t.score).id if top else None
    second = sum(1 for t in outcome.topics if t.scheme == "iptc" and t.parent is not None)
    tags = sum(1 for t in outcome.topics if t.scheme == "mediamon")
    return Scored(doc, best, len(top), second, tags)


def _topic_seconds(metrics: Metrics) -> float:
    value = metrics.registry.get_sample_value("mediamon_stage_seconds_sum", {"stage": "topics"})
    return value or 0.0


def cross_validate(docs: list[train_iptc.Doc], args: argparse.Namespace) -> Run:
    """Each fold scored with weights trained on the others (and the extra corpora)."""
    runs = []
    extra = train_iptc.extra_docs(args)
    with tempfile.TemporaryDirectory() as tmp:
        for fold in range(args.cv):
            train = [d for d in docs if d.fold != fold] + extra
            model = train_iptc.train(train, l2=args.l2, epochs=args.epochs, min_df=args.min_df)
            path = Path(tmp) / f"fold-{fold}.json"
            path.write_text(json.dumps(model), encoding="utf-8")
            held_out = [d for d in docs if d.fold == fold]
            runs.append(score(held_out, Settings(iptc_model=path)))
            print(f"  fold {fold}: {len(held_out)} articles", file=sys.stderr)
    return Run(
        [s for run in runs for s in run.scored],
        sum(run.topic_seconds for run in runs),
        sum(run.total_seconds for run in runs),
    )


def report(run: Run, errors: int) -> None:
    scored = run.scored
    n = len(scored)
    correct = sum(1 for s in scored if s.predicted == s.doc.code)
    print(f"accuracy of the best top-level IPTC code: {correct / n:.3f} ({correct}/{n})")
    print(f"{'code':<18}{'gold':>6}{'pred':>6}{'P':>8}{'R':>8}{'F1':>8}")
    for code in train_iptc.CODES:
        gold = sum(1 for s in scored if s.doc.code == code)
        pred = sum(1 for s in scored if s.predicted == code)
        hit = sum(1 for s in scored if s.doc.code == code and s.predicted == code)
        p = hit / pred if pred else 0.0
        r = hit / gold if gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        print(f"{code:<18}{gold:>6}{pred:>6}{p:>8.3f}{r:>8.3f}{f:>8.3f}")
    others = Counter(s.predicted for s in scored if s.predicted not in train_iptc.CODES)
    print(f"predicted outside the five codes: {sum(others.values())} {dict(others.most_common())}")
    confusions = Counter((s.doc.code, s.predicted) for s in scored if s.predicted != s.doc.code)
    print("most frequent errors (gold -> predicted):", confusions.most_common(6))
    print(
        f"per article: {sum(s.codes for s in scored) / n:.2f} top-level codes,"
        f" {sum(s.second_level for s in scored) / n:.2f} second-level codes,"
        f" {sum(s.tags for s in scored) / n:.2f} taxonomy tags"
    )
    print(
        f"topic stage: {n / run.topic_seconds:.0f} articles/s ({1000 * run.topic_seconds / n:.2f}"
        f" ms an article); whole enrich path {n / run.total_seconds:.1f} articles/s"
    )
    shown = [s for s in scored if s.predicted != s.doc.code][:errors]
    for s in shown:
        print(f"  {s.doc.name}: {s.doc.code} -> {s.predicted}  {s.doc.title[:70]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="BBC News folder")
    parser.add_argument("--model", type=Path, help="IPTC weights (default: the shipped ones)")
    parser.add_argument("--cv", type=int, default=0, help="N-fold cross-validation")
    parser.add_argument("--limit", type=int, default=0, help="first N articles per category")
    parser.add_argument("--errors", type=int, default=0, help="print N misclassified articles")
    train_iptc.add_arguments(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    docs = train_iptc.bbc_docs(args.path, max(args.cv, 1))
    if args.limit:
        per_category: Counter[str] = Counter()
        kept = []
        for doc in docs:
            per_category[doc.code] += 1
            if per_category[doc.code] <= args.limit:
                kept.append(doc)
        docs = kept
    print(f"{args.path}: {len(docs)} articles")
    if args.cv:
        run = cross_validate(docs, args)
        print(f"{args.cv}-fold cross-validation (weights never saw the articles they score)")
    else:
        run = score(docs, Settings(iptc_model=args.model))
        print(f"weights: {args.model or 'shipped'}")
    report(run, args.errors)


if __name__ == "__main__":
    main()
