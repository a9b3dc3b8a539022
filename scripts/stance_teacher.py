"""Label unlabelled news with the shipped six-layer stance model, for teaching a smaller one.

Usage (development only)::

    python scripts/stance_teacher.py ../shared/data/polnear/train/text \\
        --exclude ../shared/data/newsmtsc/{train,rw-dev,mt-dev}.jsonl \\
        --out /tmp/teacher.jsonl [--limit N]

Every ``.txt`` below each path is an article (first line the title). The articles go through
the run-time stages (entities, quotations) and :func:`pipeline.stages.stance.model_inputs`, so
the sentences and marked mentions are exactly those the stance stage scores; the six-layer
model's class probabilities for each mention are written as JSON lines ``{"text", "spans",
"probs"}``. Sentences found in an ``--exclude`` file (NewsMTSC JSON lines) are left out.
``scripts/train_stance.py --teacher FILE`` trains on the result.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from bench_entities import read_articles
from bench_stance import prepare
from newsmtsc import read

from pipeline.stages.entities import load_recogniser
from pipeline.stages.stance import load_model, model_inputs

BATCH = 32


def _key(text: str) -> str:
    return " ".join(text.split()).lower()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", type=Path, nargs="+")
    parser.add_argument("--exclude", type=Path, nargs="*", default=[])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    excluded = {_key(s.text) for path in args.exclude for s in read(path)}
    articles = [a for path in args.paths for a in read_articles(path, args.limit)]
    nlp = load_recogniser()
    model = load_model()
    written = skipped = 0
    with args.out.open("w", encoding="utf-8") as out:
        for lo in range(0, len(articles), BATCH):
            batch = articles[lo : lo + BATCH]
            every = model_inputs(prepare(nlp, batch, BATCH))
            inputs = [i for i in every if _key(i[0]) not in excluded]
            skipped += len(every) - len(inputs)
            if not inputs:
                continue
            probs = model.probabilities([t for t, _ in inputs], [s for _, s in inputs])
            for (text, spans), p in zip(inputs, probs, strict=True):
                row = {"text": text, "spans": spans, "probs": p.round(4).tolist()}
                out.write(json.dumps(row) + "\n")
                written += 1
            print(f"{lo + len(batch)}/{len(articles)} articles, {written} sentences", flush=True)
    print(f"{written} sentences written to {args.out}; {skipped} excluded", flush=True)


if __name__ == "__main__":
    main()
