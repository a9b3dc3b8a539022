"""Body-extraction quality and speed of the normalise stage against plain trafilatura.

Usage: ``python bench/eval_extraction.py DATA_DIR [--limit N]`` where DATA_DIR holds
``html/*.html.gz`` and ``ground-truth.json`` ``{id: {"articleBody": ..., "url": ...}}`` (the
article-extraction benchmark layout). Each page goes through the production path,
``normalise(RawRecord(value=html_bytes, origin="<id>.html"), max_bytes=...)``, and through
``trafilatura.extract(html)`` with its defaults.

Scoring follows the benchmark's ``evaluate.py``: texts are tokenised into ``\\w+`` words and
cut into 4-word shingles; per page, true/false positives and false negatives are counted on
the shingle multisets and normalised by their sum; precision and recall are averaged over the
pages (precision over pages with any prediction, recall over pages with any truth) and F1 is
the harmonic mean of the two averages. The mean of the per-page F1 is printed as well.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from pipeline.models import RawRecord, Rejected
from pipeline.settings import Settings
from pipeline.stages.normalise.article import normalise

SHINGLE_WORDS = 4
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
_TOKEN_RE = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Page:
    """One benchmark page: its id, raw HTML bytes, true article body and URL."""

    id: str
    html: bytes
    truth: str
    url: str | None


@dataclass(frozen=True, slots=True)
class Score:
    """Averaged scores and throughput of one extractor."""

    f1: float
    precision: float
    recall: float
    mean_page_f1: float
    pages_per_second: float


def load_pages(data_dir: Path, limit: int | None) -> list[Page]:
    """The pages of ``data_dir`` in file-name order, at most ``limit`` of them (a page that
    ``ground-truth.json`` does not describe has an empty body and no URL)."""
    truth = json.loads((data_dir / "ground-truth.json").read_text(encoding="utf-8"))
    paths = sorted((data_dir / "html").glob("*.html.gz"))[:limit]
    pages = []
    for path in paths:
        page_id = path.name.split(".")[0]
        entry = truth.get(page_id, {})
        pages.append(
            Page(
                id=page_id,
                html=gzip.decompress(path.read_bytes()),
                truth=entry.get("articleBody", ""),
                url=entry.get("url"),
            )
        )
    return pages


def _shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN_RE.findall(text)
    return Counter(
        tuple(tokens[i : i + SHINGLE_WORDS])
        for i in range(max(1, len(tokens) - SHINGLE_WORDS + 1))
        if tokens[i : i + SHINGLE_WORDS]
    )


def page_scores(truth: str, prediction: str) -> tuple[float | None, float | None]:
    """(precision, recall) of one page; None where the benchmark leaves the page out."""
    true, pred = _shingles(truth), _shingles(prediction)
    tp, fp, fn = (
        sum((true & pred).values()),
        sum((pred - true).values()),
        sum((true - pred).values()),
    )
    # The benchmark first divides tp, fp and fn by their sum, which leaves these ratios as they are.
    return (tp / (tp + fp) if tp + fp else None), (tp / (tp + fn) if tp + fn else None)


def score(pages: list[Page], extract: Callable[[Page], str]) -> Score:
    """Run ``extract`` over ``pages`` (after one warm-up call) and score the results."""
    extract(pages[0])
    start = time.perf_counter()
    predictions = [extract(page) for page in pages]
    elapsed = time.perf_counter() - start
    precisions: list[float] = []
    recalls: list[float] = []
    page_f1s: list[float] = []
    for page, prediction in zip(pages, predictions, strict=True):
        precision, recall = page_scores(page.truth, prediction)
        if precision is not None:
            precisions.append(precision)
        if recall is not None:
            recalls.append(recall)
        p, r = precision or 0.0, recall or 0.0
        page_f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    precision, recall = statistics.mean(precisions), statistics.mean(recalls)
    return Score(
        f1=2 * precision * recall / (precision + recall),
        precision=precision,
        recall=recall,
        mean_page_f1=statistics.mean(page_f1s),
        pages_per_second=len(pages) / elapsed,
    )


def main() -> None:
    """Parse the command line, evaluate both extractors and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="evaluate the first N pages")
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=DEFAULT_MAX_BYTES,
        help="max_bytes passed to normalise (default 16 MiB, to measure extraction, not limits)",
    )
    args = parser.parse_args()
    pages = load_pages(args.data_dir, args.limit)
    rejected: list[str] = []

    def extract_ours(page: Page) -> str:
        record = RawRecord(value=page.html, origin=f"{page.id}.html")
        try:
            return normalise(record, max_bytes=args.max_bytes).body
        except Rejected as error:
            rejected.append(f"{page.id}: {error.reason} {error.message}")
            return ""

    def extract_baseline(page: Page) -> str:
        text = trafilatura.extract(page.html.decode("utf-8"))
        return text if isinstance(text, str) else ""

    ours, baseline = score(pages, extract_ours), score(pages, extract_baseline)
    production_limit = int(Settings.model_fields["max_message_bytes"].default)
    oversized = sum(len(page.html) > production_limit for page in pages)
    print(f"pages: {len(pages)}  rejected by normalise: {len(set(rejected))}")
    print(f"pages over the default max_message_bytes of {production_limit}: {oversized}")
    for line in sorted(set(rejected)):
        print(f"  {line}")
    print(f"{'':22}{'F1':>8}{'P':>8}{'R':>8}{'page F1':>9}{'pages/s':>9}")
    for name, result in (("normalise (ours)", ours), ("trafilatura defaults", baseline)):
        print(
            f"{name:22}{result.f1:8.4f}{result.precision:8.4f}{result.recall:8.4f}"
            f"{result.mean_page_f1:9.4f}{result.pages_per_second:9.1f}"
        )
    ratio = ours.pages_per_second / baseline.pages_per_second
    print(f"speed ratio ours/trafilatura: {ratio:.2f}")


if __name__ == "__main__":
    main()
