"""Language detection on a prefix of each article: does a shorter prefix change the answer?

    python bench/eval_language.py ../shared/data/bbc_news \\
        ../shared/data/reuters21578/modapte_train.jsonl \\
        --extraction ../shared/data/article_extraction [--limit 600] [--chars 2000 1000 600]

Articles are read as ``mediamon enrich`` reads them (any file or directory, at most ``--limit``
per path) and normalised (title and body); ``--extraction`` adds the extraction benchmark's
ground-truth bodies, which are in several languages. For each ``--chars`` prefix length the
script prints how many articles get the same language as with the first length, the languages
found, and the CPU time per article (best of ``--rounds``). Mediamon reads
:data:`pipeline.stages.language.MAX_DETECT_CHARS` characters.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_extraction import load_pages

from pipeline.models import Rejected
from pipeline.settings import Settings
from pipeline.sources import read_sources
from pipeline.stages.normalise.article import normalise
from pipeline.stages.normalise.language import detect_language


def read_texts(paths: list[str], limit: int, extraction: Path | None) -> list[str]:
    """Title and body of the first ``limit`` articles of each path, then the extraction
    benchmark's bodies."""
    texts = []
    max_bytes = Settings().max_message_bytes
    for path in paths:
        for record in itertools.islice(read_sources([path]), limit):
            try:
                article = normalise(record, max_bytes=max_bytes)
            except Rejected:
                continue
            texts.append(f"{article.title}\n\n{article.body}" if article.title else article.body)
    if extraction is not None:
        texts.extend(page.truth for page in load_pages(extraction, None))
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--extraction", type=Path, help="the extraction benchmark's directory")
    parser.add_argument("--limit", type=int, default=600, help="articles per path")
    parser.add_argument("--chars", type=int, nargs="+", default=[2000, 1000, 600])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = read_texts(args.paths, args.limit, args.extraction)
    if not texts:
        parser.error("no articles")
    detect_language("A sentence to load the detector before timing it.")
    reference: list[str | None] = []
    for chars in args.chars:
        best = float("inf")
        for _ in range(args.rounds):
            started = time.process_time()
            found = [detect_language(text, chars) for text in texts]
            best = min(best, time.process_time() - started)
        reference = reference or found
        same = sum(a == b for a, b in zip(found, reference, strict=True))
        languages = Counter(code or "none" for code in found)
        print(
            f"{chars} characters: {same} of {len(texts)} as with {args.chars[0]}; "
            f"{1000 * best / len(texts):.2f} ms an article; "
            + ", ".join(f"{code} {n}" for code, n in languages.most_common())
        )


if __name__ == "__main__":
    main()
