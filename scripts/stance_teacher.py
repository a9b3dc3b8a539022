"""Label unlabelled news with the shipped six-layer stance model, for teaching a smaller one.

Usage (development only)::

    python scripts/stance_teacher.py ../shared/data/polnear/train/text \\
        --exclude ../shared/data/newsmtsc/{train,rw-dev,mt-dev}.jsonl \\
        --out /tmp/teacher.jsonl [--limit N]

Each path is a directory, every ``.txt`` below it an article (first line the title); a
``.jsonl`` file of Reuters-21578 stories (``title`` and ``body``; stories of fewer than 40 words
left out, hard-wrapped lines joined, paragraphs kept, the closing "Reuter" dropped); or a
CoNLL-2003 file (each document an article, its first sentence the title, tokens joined with
spaces and punctuation attached). The articles go through
the run-time stages (entities, quotations) and
:func:`pipeline.stages.attribution.stance.model_inputs`, so the sentences and marked mentions are
exactly those the stance stage scores; the six-layer
model's class probabilities for each mention are written as JSON lines ``{"text", "spans",
"probs"}``. Sentences found in an ``--exclude`` file (NewsMTSC JSON lines) are left out.
``scripts/train_stance.py --teacher FILE`` trains on the result.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from bench_entities import read_articles
from bench_stance import prepare
from conll import read_documents
from newsmtsc import read

from pipeline.stages.attribution.stance import load_model, model_inputs
from pipeline.stages.entities.recognise import load_recogniser

BATCH = 32


MIN_STORY_WORDS = 40
MIN_DOCUMENT_TOKENS = 60


def articles(path: Path, limit: int) -> list[tuple[str, str]]:
    """(title, body) of the articles at ``path`` (see the module doc), at most ``limit``."""
    if path.is_dir():
        return read_articles(path, limit)
    found = reuters_stories(path) if path.suffix == ".jsonl" else conll_documents(path)
    return found[:limit] if limit else found


def reuters_stories(path: Path) -> list[tuple[str, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        body = (row.get("body") or "").strip()
        if len(body.split()) < MIN_STORY_WORDS:
            continue
        paragraphs = re.split(r"\n\s{2,}", body)
        text = "\n\n".join(" ".join(p.split()) for p in paragraphs)
        text = re.sub(r"\s*Reuter\s*$", "", text)
        out.append((" ".join((row.get("title") or "").split()), text))
    return out


def conll_documents(path: Path) -> list[tuple[str, str]]:
    out = []
    for document in read_documents(path):
        if sum(len(s.tokens) for s in document) < MIN_DOCUMENT_TOKENS:
            continue
        sentences = [detokenise(s.tokens) for s in document]
        out.append((sentences[0], " ".join(sentences[1:])))
    return out


def detokenise(tokens: Sequence[str]) -> str:
    """CoNLL tokens as text: punctuation, brackets, clitics and quotes attached."""
    text = " ".join(tokens)
    text = re.sub(r" ([,.;:!?%)\]])", r"\1", text)
    text = re.sub(r"([(\[$]) ", r"\1", text)
    text = re.sub(r" (n't|'s|'re|'ve|'ll|'d)\b", r"\1", text)
    return re.sub(r'" (.*?) "', r'"\1"', text)


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
    found = [a for path in args.paths for a in articles(path, args.limit)]
    nlp = load_recogniser()
    model = load_model()
    written = skipped = 0
    with args.out.open("w", encoding="utf-8") as out:
        for lo in range(0, len(found), BATCH):
            batch = found[lo : lo + BATCH]
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
            print(f"{lo + len(batch)}/{len(found)} articles, {written} sentences", flush=True)
    print(f"{written} sentences written to {args.out}; {skipped} excluded", flush=True)


if __name__ == "__main__":
    main()
