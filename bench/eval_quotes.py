"""Quotation attribution on PolNeAR: quote content P/R/F1 and speaker accuracy.

    python bench/eval_quotes.py ../shared/data/polnear/dev [--limit N] [--show N]
    python bench/eval_quotes.py ../shared/data/polnear/train --holdout [--show-speakers N]

Each article text is fed whole through ``Enricher.process`` with the standard stages (JSON
``{"body": text}`` keeps the body, so offsets match the brat spans); the published quotes and
entities are scored. Gold: PolNeAR attributions whose cue is a verb of saying (said, told,
added, according to, wrote, ...); one annotator's file per article (the first by name).
Quotes are compared as token sets (the parts of a split or multi-paragraph quote, which the
quotes stage gives one group, are one prediction); a prediction matches a gold quote when
|P∩G| / max(|P|, |G|) ≥ the threshold, one-to-one, best overlap first.

Speaker accuracy, over matched quotes, as issue #18 defines it: a speaker is right when its
name matches the gold source (case and a possessive aside) or one of its mentions (the
published mentions of the ``speaker_id`` entity, pronouns and titles included) is the gold
source span. "lenient" is the earlier reading, where the speaker's span or a mention only had
to overlap the gold source (so "he" was right whoever it was resolved to).

``--no-sentiment`` leaves the stance model out (the slow part) and adds the pronoun and
title mentions the stance stage would add, which is all the scoring reads of that stage.
``--holdout`` keeps the half of the split chosen by a hash of the article's name, never read
while tuning; ``--tune`` the other half. Baseline: a quotation-mark regex with the nearest
PER mention as speaker.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import orjson

from pipeline.enrich import Enricher
from pipeline.models import EnrichedEvent, Entity, EntityType, RawRecord
from pipeline.resources.kb import default_kb
from pipeline.settings import Settings
from pipeline.stages.attribution.quotes import Attribution, QuotesStage
from pipeline.stages.attribution.stance import with_mentions
from pipeline.stages.standard import standard_stages
from pipeline.text.titles import TITLES

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
    speaker: str | None = None
    """The published speaker (a name), None when the quote has none."""
    mentions: frozenset[tuple[int, int]] = frozenset()
    """The spans of the speaker entity's mentions in the published event."""
    span: tuple[int, int] | None = None
    """Where the quotes stage found the speaker (lenient scoring only)."""
    person: bool = False
    """Whether the speaker is a person entity."""


class _Recording(QuotesStage):
    """The quotes stage, keeping each article's attributions (for the groups of a split quote,
    which the published quotes do not carry)."""

    found: ClassVar[dict[str, list[Attribution]]] = {}

    def attribute(
        self, body: str, entities: Sequence[Entity]
    ) -> tuple[list[Attribution], list[Entity]]:
        found = super().attribute(body, entities)
        self.found[body] = found[0]
        return found


def predictions(event: EnrichedEvent, attributions: Sequence[Attribution]) -> list[Pred]:
    """The published quotes of ``event``, the parts of one quote as one prediction."""
    groups: dict[int, Pred] = {}
    by_id = {e.id: e for e in event.entities}
    group_of = {(a.start, a.end): a for a in attributions}
    for quote in event.quotes:
        a = group_of[(quote.start, quote.end)]
        pred = groups.setdefault(a.group, Pred([]))
        pred.content.append((quote.start, quote.end))
        if pred.speaker is None and quote.speaker is not None:
            pred.speaker = quote.speaker
            entity = by_id.get(quote.speaker_id or "")
            if entity is not None:
                pred.mentions = frozenset((m.start, m.end) for m in entity.mentions)
                pred.person = entity.type is EntityType.PER
            if a.speaker_start is not None and a.speaker_end is not None:
                pred.span = (a.speaker_start, a.speaker_end)
    return list(groups.values())


_QUOTE_RE = re.compile(r"[\"“«]([^\"“”«»\n]{3,}?)[\"”»]")


def baseline(event: EnrichedEvent) -> list[Pred]:
    persons = sorted(
        (
            (m.start, m.end, e)
            for e in event.entities
            if e.type is EntityType.PER
            for m in e.mentions
        ),
        key=lambda p: (p[0], p[1]),
    )
    out = []
    for m in _QUOTE_RE.finditer(event.body):
        a, b = m.span(1)
        near = min(persons, key=lambda p: min(abs(p[0] - b), abs(p[1] - a)), default=None)
        pred = Pred([(a, b)])
        if near is not None:
            pred.speaker, pred.span = near[2].name, (near[0], near[1])
            pred.mentions = frozenset((x.start, x.end) for x in near[2].mentions)
            pred.person = True
        out.append(pred)
    return out


def _fold(text: str) -> str:
    return " ".join(_POSSESSIVE.sub("", text.strip(" \t\n,.:;\"'")).casefold().split())


_POSSESSIVE = re.compile(r"['\u2019]s?$")
_HEAD_END = re.compile(r",|\s\(|\s(?:who|whom|which|whose|that)\b|\s[\u2014\u2013]")
_NOT_HEAD_BEFORE = frozenset(
    ["for", "of", "to", "at", "from", "with", "by", "about", "on", "in", "and"]
)


def head(body: str, source: list[tuple[int, int]]) -> tuple[int, int]:
    """The head of a gold source span: up to its first appositive comma, bracket or relative
    clause ("Kenneth Baer, a former official who ..." -> "Kenneth Baer")."""
    start, end = source[0]
    cut = _HEAD_END.search(body, start, end)
    end = cut.start() if cut else end
    while end > start and body[end - 1] in " \t\n,.:;":
        end -= 1
    return start, end


def speaker_right(body: str, gold: Gold, pred: Pred, *, exact: bool = False) -> bool:
    """Issue #18's definition: the speaker's name matches the gold source, or one of the
    speaker entity's published mentions is the gold source span.

    A mention must be the whole span, one of its parts, or its head (see :func:`head`). The
    name matches when it is the head, ends it ("Republican nominee Donald Trump" for "Donald
    Trump"; not after "for", "of", ...: "a spokeswoman for Hillary Clinton"), or, for a
    person, when the head ends with the name's last word after a title or lowercase word
    ("Mr. Obama", "Sen. Obama", "the senator, Obama" for "Barack Obama"; not "Michelle Obama").
    ``exact``: only the name equal to the whole source, or a mention equal to its span."""
    if pred.speaker is None or not gold.source:
        return False
    whole = (gold.source[0][0], gold.source[-1][1])
    if pred.mentions & {whole, *gold.source}:
        return True
    text = " ".join(body[a:b] for a, b in gold.source)
    name = _fold(pred.speaker)
    if exact or name == _fold(text):
        return name == _fold(text)
    h_start, h_end = head(body, gold.source)
    if (h_start, h_end) in pred.mentions:
        return True
    words = _fold(body[h_start:h_end]).split()
    own = name.split()
    if not own or not words:
        return False
    n = len(own)
    if n <= len(words) and words[-n:] == own:
        return n == len(words) or words[-n - 1] not in _NOT_HEAD_BEFORE
    if not pred.person or len(own) < 2 or words[-1] != own[-1]:
        return False
    if len(words) == 1:
        return True
    before = body[h_start:h_end].split()[-2]
    return before[0].islower() or before.casefold().strip(".") in _TITLE_WORDS


_TITLE_WORDS = frozenset(t.strip(".") for t in TITLES) | frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "sen",
        "rep",
        "gov",
        "lt",
        "col",
        "sgt",
        "prof",
        "rev",
        "judge",
        "justice",
    ]
)


def lenient_right(body: str, gold: Gold, pred: Pred) -> bool:
    """The earlier, lenient reading: the speaker's span or one of its mentions overlaps the
    gold source (a pronoun "he" is right whoever it was resolved to)."""
    spans = [*pred.mentions, *([pred.span] if pred.span else [])]
    return overlaps(spans, gold.source)


Doc = tuple[str, list[Gold], list[Pred]]


def matches(
    body: str, golds: list[Gold], preds: list[Pred], threshold: float
) -> list[tuple[int, int]]:
    """(gold index, prediction index) pairs: token overlap ≥ ``threshold``, one-to-one, best
    overlap first."""
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
    out = []
    for _, i, j in sorted(pairs, reverse=True):
        if i in used_g or j in used_p:
            continue
        used_g.add(i)
        used_p.add(j)
        out.append((i, j))
    return out


def score(docs: list[Doc], threshold: float) -> dict[str, float]:
    tp = n_pred = n_gold = speaker_ok = exact_ok = lenient_ok = 0
    for body, golds, preds in docs:
        n_pred += len(preds)
        n_gold += len(golds)
        for i, j in matches(body, golds, preds, threshold):
            tp += 1
            speaker_ok += speaker_right(body, golds[i], preds[j])
            exact_ok += speaker_right(body, golds[i], preds[j], exact=True)
            lenient_ok += lenient_right(body, golds[i], preds[j])
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "P": precision,
        "R": recall,
        "F1": f1,
        "speaker_acc": speaker_ok / tp if tp else 0.0,
        "exact_acc": exact_ok / tp if tp else 0.0,
        "lenient_acc": lenient_ok / tp if tp else 0.0,
        "gold": n_gold,
        "pred": n_pred,
        "matched": tp,
    }


def in_holdout(name: str) -> bool:
    """The fixed half of a split set aside from tuning: by a hash of the article's name."""
    return hashlib.sha256(name.encode()).digest()[0] % 2 == 0


def load(path: Path, half: str, limit: int) -> tuple[list[str], list[str], list[list[Gold]]]:
    """Article names, texts and golds of the split at ``path`` (``half``: all, tune or
    holdout)."""
    anns: dict[str, Path] = {}
    for ann in sorted((path / "attributions").glob("*.ann")):
        stem = ann.stem.rsplit("_", 1)[0]
        anns.setdefault(stem, ann)
    names = [n for n in sorted(anns) if half == "all" or in_holdout(n) == (half == "holdout")]
    if limit:
        names = names[:limit]
    texts = [(path / "text" / f"{n}.txt").read_text(encoding="utf-8") for n in names]
    return names, texts, [parse_ann(anns[n]) for n in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="a PolNeAR split folder (text/, attributions/)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--holdout", action="store_true", help="only the half of the split never tuned on"
    )
    group.add_argument("--tune", action="store_true", help="only the other half")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument(
        "--no-sentiment",
        action="store_true",
        help="skip the stance model; add the pronoun and title mentions the stance stage adds",
    )
    parser.add_argument("--show", type=int, default=0, help="print N missed golds / false preds")
    parser.add_argument(
        "--show-speakers", type=int, default=0, help="print N matched quotes with a wrong speaker"
    )
    args = parser.parse_args()

    half = "holdout" if args.holdout else "tune" if args.tune else "all"
    names, texts, golds = load(args.path, half, args.limit)
    settings = Settings()
    kb = default_kb()
    stages = [
        _Recording(kb, settings.languages) if s.name == "quotes" else s
        for s in standard_stages(settings, kb)
        if not (args.no_sentiment and s.name == "stance")
    ]
    enricher = Enricher(settings, stages=stages, kb=kb)
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
    if args.no_sentiment:
        events = [
            e.model_copy(update={"entities": with_mentions(e.body, e.entities, kb)}) for e in events
        ]
    shifted = sum(not t.startswith(e.body) for e, t in zip(events, texts, strict=True))
    ours = [predictions(e, _Recording.found[e.body]) for e in events]
    base = [baseline(e) for e in events]

    print(
        f"{len(names)} articles ({half}), {sum(map(len, golds))} gold attributions with a "
        f"saying cue; bodies whose offsets differ from the text's: {shifted}; "
        f"{len(names) / enrich_s:.1f} articles/s through the enricher"
    )
    for label, preds in (("quotes stage", ours), ("baseline", base)):
        for threshold in (0.3, 0.8):
            s = score(
                [(e.body, g, p) for e, g, p in zip(events, golds, preds, strict=True)], threshold
            )
            print(
                f"{label:13s} overlap>={threshold}: P {s['P']:.3f} R {s['R']:.3f} "
                f"F1 {s['F1']:.3f}  speaker accuracy {s['speaker_acc']:.3f} "
                f"(exact {s['exact_acc']:.3f}, lenient {s['lenient_acc']:.3f}; "
                f"{s['matched']:.0f} matched of "
                f"{s['gold']:.0f} gold, {s['pred']:.0f} predicted)"
            )
    if args.show:
        _show(events, golds, ours, args.show)
    if args.show_speakers:
        _show_speakers(events, golds, ours, args.show_speakers)


def _show_speakers(
    events: list[EnrichedEvent], golds: list[list[Gold]], preds: list[list[Pred]], n: int
) -> None:
    for event, gs, ps in zip(events, golds, preds, strict=True):
        body = event.body
        for i, j in matches(body, gs, ps, 0.3):
            g, p = gs[i], ps[j]
            if speaker_right(body, g, p) or n <= 0:
                continue
            n -= 1
            gold = " ".join(body[a:b] for a, b in g.source) or "-"
            span = body[p.span[0] : p.span[1]] if p.span else "-"
            lo = min([g.content[0][0], *(a for a, _ in g.source)])
            hi = max([g.content[-1][1], *(b for _, b in g.source)])
            context = body[max(lo, hi - 300) : hi].replace("\n", " ")
            print(f"SPEAKER gold {gold!r} ours {p.speaker!r} at {span!r} | ...{context}")


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
