"""Publication-date accuracy of the normalise stage against htmldate alone, per day.

Usage: ``python bench/eval_dates.py DATA_DIR [--labels FILE] [--show]`` where DATA_DIR holds
``html/ID.html.gz`` and ``ground-truth.json`` ``{ID: {"url": ...}}`` (the article-extraction
benchmark layout; see ``bench/eval_extraction.py``) and FILE maps page ids to the day each
page was first published, ``{ID: "YYYY-MM-DD"}`` (default: ``bench/dates_labels.json``, our
labels of the 61 pages of ``../shared/data/article_extraction``, read off each page's
dateline, metadata and URL). Only labelled pages are measured.

Each page goes through the production path as a raw record ``{"url": ..., "html": ...}``
into ``normalise``, whose ``published_at`` (UTC) gives its day, and through
``htmldate.find_date(html, url=url, original_date=True)``. A page is right when the day is
the labelled day; a page with no date is wrong and counted apart. ``--show`` lists the pages
where either is wrong (ids and days only).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import htmldate
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_extraction import DEFAULT_MAX_BYTES, Page, load_pages

from pipeline.models import RawRecord, Rejected
from pipeline.stages.normalise.article import normalise

DEFAULT_LABELS = Path(__file__).resolve().parent / "dates_labels.json"


@dataclass(frozen=True, slots=True)
class Score:
    """Day-level accuracy of one date finder over the labelled pages."""

    right: int
    undated: int
    pages: int

    @property
    def accuracy(self) -> float:
        return self.right / self.pages if self.pages else 0.0


def load_labels(path: Path) -> dict[str, str]:
    """Page id -> labelled day ("YYYY-MM-DD"); a label that is not a day raises ValueError."""
    labels: dict[str, str] = orjson.loads(path.read_bytes())
    return {page_id: date.fromisoformat(day).isoformat() for page_id, day in labels.items()}


def day_of(moment: datetime | None) -> str | None:
    """The day of a publication time as "YYYY-MM-DD" (Mediamon's are UTC), or None."""
    return moment.date().isoformat() if moment is not None else None


def score(days: dict[str, str | None], labels: dict[str, str]) -> Score:
    """How many of the labelled pages got their labelled day, and how many got none."""
    found = [days.get(page_id) for page_id in labels]
    return Score(
        right=sum(day == labels[page_id] for page_id, day in zip(labels, found, strict=True)),
        undated=sum(day is None for day in found),
        pages=len(labels),
    )


def ours(page: Page) -> str | None:
    """The day Mediamon gives a page sent as a raw ``{"url", "html"}`` record."""
    value = orjson.dumps({"url": page.url, "html": page.html.decode("utf-8", "replace")})
    try:
        article = normalise(
            RawRecord(value=value, origin=f"{page.id}.json"), max_bytes=DEFAULT_MAX_BYTES
        )
    except Rejected:
        return None
    return day_of(article.published_at)


def baseline(page: Page) -> str | None:
    """htmldate's original-date day for a page."""
    return htmldate.find_date(
        page.html.decode("utf-8", "replace"), url=page.url, original_date=True
    )


def main() -> None:
    """Parse the command line, date every labelled page both ways and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help="JSON {id: day}")
    parser.add_argument("--show", action="store_true", help="list the pages either gets wrong")
    args = parser.parse_args()
    labels = load_labels(args.labels)
    pages = [page for page in load_pages(args.data_dir, None) if page.id in labels]
    missing = sorted(set(labels) - {page.id for page in pages})
    if missing:
        parser.error(f"{len(missing)} labelled pages not in {args.data_dir}: {missing[:3]} ...")
    days = {
        name: {page.id: find(page) for page in pages}
        for name, find in (("ours", ours), ("htmldate", baseline))
    }
    print(f"labelled pages: {len(labels)}")
    print(f"{'':30}{'day right':>10}{'accuracy':>10}{'no date':>9}")
    for name, title in (("ours", "normalise (ours)"), ("htmldate", "htmldate original_date")):
        result = score(days[name], labels)
        print(f"{title:30}{result.right:>10}{result.accuracy:>10.3f}{result.undated:>9}")
    if args.show:
        for page_id, day in sorted(labels.items()):
            got = days["ours"][page_id], days["htmldate"][page_id]
            if got != (day, day):
                print(f"  {page_id[:12]} label {day}  ours {got[0]}  htmldate {got[1]}")


if __name__ == "__main__":
    main()
