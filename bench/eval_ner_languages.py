"""Exact-span NER F1 of the entity stage per language and type, over the development splits of
``ner_multilingual/``, next to the English figure.

Usage: ``python bench/eval_ner_languages.py DIR [--limit N] [--skip-wikineural N]
[--model DIR] [--languages de es ...]`` with DIR the ``ner_multilingual`` folder.

Sets: ``conll/{de,es,nl}/val`` (CoNLL-2003 German, CoNLL-2002 Spanish and Dutch: news),
``wikiann/*/val`` and ``wikineural/*/val`` (Wikipedia). The models train on the ``train``
files and on the first sentences of ``wikineural/*/val`` (the English one on 4,000, the
multilingual one on 2,500), so WikiNEuRal is scored from sentence ``--skip-wikineural`` (4,000)
on; none of these sentences was trained on. Each sentence is one text, its tokens joined with
spaces, run through the language's recogniser (the multilingual pipeline fed by the language's
tokenizer; English: the English one) and linking; its mentions are scored against the gold
spans by exact match. WikiANN has no MISC: predicted MISC spans are not counted there.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

from conll import Score, Text, chunks, read_conllu
from eval_conll import stage_spans

from pipeline.stages.entities.recognise import (
    BUNDLED_MODEL,
    load_multilingual,
    load_recogniser,
    tokenizer_for,
)


def files(root: Path, languages: list[str] | None) -> list[tuple[str, str, Path]]:
    """``(set, language, path)`` of every development file under ``root``."""
    out = []
    for corpus in ("conll", "wikiann", "wikineural"):
        for path in sorted((root / corpus).glob("*/val.conllu")):
            language = path.parent.name
            if languages is None or language in languages:
                out.append((corpus, language, path))
    return out


def texts_of(corpus: str, path: Path, limit: int, skip: int) -> list[Text]:
    documents = read_conllu(path)[skip if corpus == "wikineural" else 0 :]
    return list(chunks(documents[:limit], 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--limit", type=int, default=1000, help="sentences per file")
    parser.add_argument("--skip-wikineural", type=int, default=4000)
    parser.add_argument("--model", default=BUNDLED_MODEL, help="the multilingual recogniser")
    parser.add_argument("--languages", nargs="*")
    args = parser.parse_args()

    english, multilingual = load_recogniser(), load_multilingual(args.model)
    rows = []
    for corpus, language, path in files(args.root, args.languages):
        texts = texts_of(corpus, path, args.limit, args.skip_wikineural)
        started = time.process_time()
        if language == "en":
            predicted = stage_spans(texts, english)
        else:
            predicted = stage_spans(texts, multilingual, tokenizer_for(language, multilingual))
        cpu_ms = 1000 * (time.process_time() - started) / max(1, len(texts))
        if corpus == "wikiann":
            predicted = [[s for s in spans if s[2] != "MISC"] for spans in predicted]
        score = Score()
        for text, spans in zip(texts, predicted, strict=True):
            score.add(text.spans, spans)
        rows.append((corpus, language, len(texts), score, cpu_ms))
        model = "English" if language == "en" else "multilingual"
        print(score.table(f"{corpus}/{language} ({len(texts)} sentences, {model} model)"))
        sys.stdout.flush()
    header = "".join(f"{h:>7}" for h in ("PER", "ORG", "LOC", "MISC", "F1"))
    print(f"\n{'set':<12}{'lang':<6}{header}  CPU ms a sentence")
    for corpus, language, _, score, cpu_ms in rows:
        cells = [score.prf(t)[2] for t in ("PER", "ORG", "LOC", "MISC")]
        misc = "" if corpus == "wikiann" else f"{cells[3]:7.3f}"
        print(
            f"{corpus:<12}{language:<6}{cells[0]:7.3f}{cells[1]:7.3f}{cells[2]:7.3f}"
            f"{misc or '      -':>7}{score.prf()[2]:7.3f}{cpu_ms:6.1f}"
        )


if __name__ == "__main__":
    main()
