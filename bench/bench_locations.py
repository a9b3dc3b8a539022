"""Cost of place resolution: the gazetteer's opening time, the time per article and the RSS
the gazetteer adds, over LGL's articles with their entities found first.

Usage: ``python bench/bench_locations.py PATH`` (e.g. ``/work/shared/data/geoparsing/lgl.xml``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

import orjson
from eval_geoparsing import read_lgl

from pipeline.enrich import Enricher
from pipeline.models import EnrichedEvent, RawRecord
from pipeline.resources.gazetteer import Gazetteer
from pipeline.resources.kb import default_kb
from pipeline.settings import Settings
from pipeline.stages.entities.toponyms import resolve_locations
from pipeline.stages.standard import standard_stages


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    args = parser.parse_args()
    docs = read_lgl(args.path)
    settings = Settings(stance_enabled=False)
    stages = [s for s in standard_stages(settings, default_kb()) if s.name == "entities"]
    enricher = Enricher(settings, stages=stages)
    events = []
    for i in range(0, len(docs), 32):
        records = [RawRecord(value=orjson.dumps({"body": d.text})) for d in docs[i : i + 32]]
        events += [e for e in enricher.process(records) if isinstance(e, EnrichedEvent)]
    before = rss_mib()
    started = time.perf_counter()
    gazetteer = Gazetteer()
    gazetteer.load()
    opened = time.perf_counter() - started
    for round_ in ("cold", "warm"):
        started = time.perf_counter()
        for event in events:
            resolve_locations(
                event.entities, event.body, None, gazetteer=gazetteer, kb=default_kb()
            )
        per = (time.perf_counter() - started) / len(events) * 1000
        print(f"{round_}: {per:.1f} ms an article ({len(events)} articles)")
    print(f"gazetteer opened in {opened * 1000:.1f} ms; RSS {before:.0f} -> {rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
