"""Quotation attribution on PolNeAR: quote content P/R/F1 and speaker accuracy.

    python bench/eval_quotes.py ../shared/data/polnear/dev [--limit N] [--show N]

Each article text is fed whole through ``Enricher.process`` (JSON ``{"body": text}`` keeps the
body, so offsets match the brat spans), then
:func:`pipeline.stages.attribution.quotes.find_attributions`. Gold: PolNeAR attributions whose cue
is a verb of saying (said, told, added, according to,
wrote, ...); one annotator's file per article (the first by name). Quotes are compared as
token sets (the parts of a split or multi-paragraph quote are one prediction); a prediction
matches a gold quote when |P∩G| / max(|P|, |G|) ≥ the threshold, one-to-one, best overlap
first. Speaker accuracy: over matched quotes, our speaker span (or a mention of our speaker
entity) overlaps the gold Source span. Baseline: a quotation-mark regex with the nearest PER
mention as speaker.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import orjson

from pipeline.enrich import Enricher
from pipeline.models import EnrichedEvent, EntityType, RawRecord
from pipeline.settings import Settings
from pipeline.stages.attribution.quotes import find_attributions

SAY_CUES = re.compile(
    r"^(?:(?:has|have|had|would|will|also|later)\s+)*(?:"
    r"said|says|say|saying|told|tells|tell|telling|added|adds|adding|according to|wrote|"
    r"writes|writing|noted|notes|warned|warns|promised|promises|claimed|claims|insisted|"
    r"insists|stated|states|explained|explains|argued|argues|arguing|announced|declared|"
    r"asserted|acknowledged|admitted|stressed|reported|reports|continued|recalled|"
    r"predicted|complained|confirmed|replied|responded|countered|tweeted|asked|suggested|"
    r"vowed|pledged|charged|maintained|testified|emphasized)[:,]?$",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")


@dataclass
class Gold:
    content: list[tuple[int, int]]
    source: list[tuple[int, int]]
    cue: str


def parse_ann(path: Path) -> list[Gold]:
    spans: dict[str, tuple[str, list[tuple[int, int]], str]] = {}
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if line.startswith("T") and len(parts) >= 3:
            kind, _, ranges = parts[1].partition(" ")
            frags = [(int(a), int(b)) for a, b in (r.split() for r in ranges.split(";"))]
            spans[parts[0]] = (kind, frags, parts[2])
        elif line.startswith("E") and len(parts) >= 2:
            events.append(dict(arg.split(":", 1) for arg in parts[1].split()))
    out = []
    for event in events:
        if "Content" not in event or "Cue" not in event:
            continue
        cue = spans[event["Cue"]][2]
        if not SAY_CUES.match(cue.strip()):
            continue
        source = spans[event["Source"]][1] if "Source" in event else []
        out.append(Gold(spans[event["Content"]][1], source, cue))
    return out


def tokens(body: str, parts: list[tuple[int, int]]) -> set[int]:
    return {m.start() for a, b in parts for m in _WORD.finditer(body, a, b)}


def overlaps(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> bool:
    return any(x < d and c < y for x, y in a for c, d in b)


@dataclass
class Pred:
    content: list[tuple[int, int]]
    speaker: list[tuple[int, int]]


def predictions(event: EnrichedEvent) -> list[Pred]:
    groups: dict[int, Pred] = {}
    by_id = {e.id: e for e in event.entities}
    for a in find_attributions(event.body, event.entities):
        pred = groups.setdefault(a.group, Pred([], []))
        pred.content.append((a.start, a.end))
        if a.speaker_start is not None and a.speaker_end is not None and not pred.speaker:
            pred.speaker.append((a.speaker_start, a.speaker_end))
            if a.speaker_id in by_id:
                pred.speaker.extend((m.start, m.end) for m in by_id[a.speaker_id].mentions)
    return list(groups.values())


_QUOTE_RE = re.compile(r"[\"“«]([^\"“”«»\n]{3,}?)[\"”»]")


def baseline(event: EnrichedEvent) -> list[Pred]:
    persons = sorted(
        (m.start, m.end) for e in event.entities if e.type is EntityType.PER for m in e.mentions
    )
    out = []
    for m in _QUOTE_RE.finditer(event.body):
        a, b = m.span(1)
        near = min(persons, key=lambda p: min(abs(p[0] - b), abs(p[1] - a)), default=None)
        out.append(Pred([(a, b)], [near] if near else []))
    return out


def score(docs: list[tuple[str, list[Gold], list[Pred]]], threshold: float) -> dict[str, float]:
    tp = n_pred = n_gold = speaker_ok = 0
    for body, golds, preds in docs:
        n_pred += len(preds)
        n_gold += len(golds)
        gt = [tokens(body, g.content) for g in golds]
        pt = [tokens(body, p.content) for p in preds]
        pairs = []
        for i, g in enumerate(gt):
            for j, p in enumerate(pt):
                if g and p:
                    o = len(g & p) / max(len(g), len(p))
                    if o >= threshold:
                        pairs.append((o, i, j))
        used_g: set[int] = set()
        used_p: set[int] = set()
        for _, i, j in sorted(pairs, reverse=True):
            if i in used_g or j in used_p:
                continue
            used_g.add(i)
            used_p.add(j)
            tp += 1
            if overlaps(preds[j].speaker, golds[i].source):
                speaker_ok += 1
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "P": precision,
        "R": recall,
        "F1": f1,
        "speaker_acc": speaker_ok / tp if tp else 0.0,
        "gold": n_gold,
        "pred": n_pred,
        "matched": tp,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="a PolNeAR split folder (text/, attributions/)")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--show", type=int, default=0, help="print N missed golds / false preds")
    args = parser.parse_args()

    anns: dict[str, Path] = {}
    for ann in sorted((args.path / "attributions").glob("*.ann")):
        stem = ann.stem.rsplit("_", 1)[0]
        anns.setdefault(stem, ann)
    names = sorted(anns)
    if args.limit:
        names = names[: args.limit]
    texts = [(args.path / "text" / f"{n}.txt").read_text(encoding="utf-8") for n in names]
    enricher = Enricher(Settings())
    enricher.warm_up()
    records = [
        RawRecord(value=orjson.dumps({"body": t}), origin=f"{n}.json")
        for n, t in zip(names, texts, strict=True)
    ]
    started = time.perf_counter()
    events = [e for e in enricher.process(records) if isinstance(e, EnrichedEvent)]
    enrich_s = time.perf_counter() - started
    if len(events) != len(names):
        sys.exit(f"{len(names) - len(events)} articles were not enriched")
    shifted = sum(not t.startswith(e.body) for e, t in zip(events, texts, strict=True))
    started = time.perf_counter()
    ours = [predictions(e) for e in events]
    quote_s = time.perf_counter() - started
    base = [baseline(e) for e in events]
    golds = [parse_ann(anns[n]) for n in names]

    print(
        f"{len(names)} articles, {sum(map(len, golds))} gold attributions with a saying cue; "
        f"bodies whose offsets differ from the text's: {shifted}"
    )
    print(
        f"entities stage {len(names) / enrich_s:.1f} articles/s; "
        f"quotes stage {len(names) / quote_s:.1f} articles/s"
    )
    for label, preds in (("quotes stage", ours), ("baseline", base)):
        for threshold in (0.3, 0.8):
            s = score(
                [(e.body, g, p) for e, g, p in zip(events, golds, preds, strict=True)], threshold
            )
            print(
                f"{label:13s} overlap>={threshold}: P {s['P']:.3f} R {s['R']:.3f} "
                f"F1 {s['F1']:.3f}  speaker accuracy {s['speaker_acc']:.3f} "
                f"({s['matched']:.0f} matched of {s['gold']:.0f} gold, {s['pred']:.0f} predicted)"
            )
    if args.show:
        _show(events, golds, ours, args.show)


def _show(
    events: list[EnrichedEvent], golds: list[list[Gold]], preds: list[list[Pred]], n: int
) -> None:
    shown: dict[str, int] = defaultdict(int)
    for event, gs, ps in zip(events, golds, preds, strict=True):
        body = event.body
        pt = [tokens(body, p.content) for p in ps]
        for g in gs:
            gt = tokens(body, g.content)
            best = max((len(gt & p) / max(len(gt), len(p)) for p in pt if p), default=0.0)
            if best < 0.3 and shown["miss"] < n:
                shown["miss"] += 1
                print("MISS", g.cue, "|", " / ".join(body[a:b] for a, b in g.content)[:200])
        gts = [tokens(body, g.content) for g in gs]
        for p, toks in zip(ps, pt, strict=True):
            best = max((len(toks & g) / max(len(toks), len(g)) for g in gts if g), default=0.0)
            if best < 0.3 and shown["false"] < n:
                shown["false"] += 1
                print("FALSE", "|", " / ".join(body[a:b] for a, b in p.content)[:200])
        for g in gs:
            gt = tokens(body, g.content)
            for p, toks in zip(ps, pt, strict=True):
                o = len(gt & toks) / max(len(gt), len(toks)) if gt and toks else 0.0
                if 0.3 <= o < 0.8 and shown["partial"] < n:
                    shown["partial"] += 1
                    print("PARTIAL gold", "|", " / ".join(body[a:b] for a, b in g.content)[:200])
                    print("        ours", "|", " / ".join(body[a:b] for a, b in p.content)[:200])


if __name__ == "__main__":
    main()
