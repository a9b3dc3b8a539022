"""Build the shipped taxonomy of subject tags, ``pipeline/data/taxonomy.yaml``.

Usage: ``python scripts/build_taxonomy.py [-o pipeline/data/taxonomy.yaml]``

Generated, not written by hand:

- a **country** tag for every ISO 3166-1 country (pycountry) the knowledge base knows (all but
  a few uninhabited territories, which are listed), and Kosovo: fires when the country is one
  of the story's places;
- a **region** tag for every region of the knowledge base (Crimea, Gaza, Xinjiang, Catalonia,
  US states, ...), and for the world regions below (Middle East, Sahel, ...), fired by a
  linked region named twice or salient, or by a member country among the places;
- an **organisation** tag for every intergovernmental organisation, party, NGO, central bank,
  legislature and armed group of the knowledge base, named twice or salient.

Curated here: the major bilateral relationships and conflicts of the last decade (2015-2026),
with rules over actors, places, IPTC codes and keywords.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pycountry
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from pipeline.models import Taxonomy
from pipeline.resources.kb import KnowledgeBase
from pipeline.stages.topics.tags import TAXONOMY_PATH, Tagger

ORGANISATION_KINDS = ("igo", "party", "ngo", "central-bank", "legislature", "armed-group")
MENTIONS = 2
"""An organisation or region named this many times is a subject of the story ..."""
SALIENCE = 0.15
"""... and so is one this salient."""
CONFLICT = "medtop:16000000"
POLITICS = "medtop:11000000"
CRIME = "medtop:02000000"
CIVIL_UNREST = "medtop:20000065"
DASH = "\u2013"
"""The en dash of labels such as "US\u2013Russia relations"."""
EU = ["Q458", "mm:org:european-commission", "mm:org:european-council", "mm:org:european-parliament"]


def countries(codes: str) -> list[str]:
    """ "AM AZ GE" -> ["AM", "AZ", "GE"]."""
    return codes.split()


WORLD_REGIONS: dict[str, list[str]] = {
    "Middle East": countries("AE BH EG IL IQ IR JO KW LB OM PS QA SA SY TR YE"),
    "Gulf states": countries("AE BH KW OM QA SA"),
    "Maghreb": countries("DZ LY MA MR TN"),
    "Sahel": countries("BF ML MR NE TD"),
    "Horn of Africa": countries("DJ ER ET SO"),
    "Western Balkans": countries("AL BA ME MK RS"),
    "Baltic states": countries("EE LT LV"),
    "Nordic countries": countries("DK FI IS NO SE"),
    "South Caucasus": countries("AM AZ GE"),
    "Central Asia": countries("KG KZ TJ TM UZ"),
    "Southeast Asia": countries("BN ID KH LA MM MY PH SG TH TL VN"),
    "Korean Peninsula": countries("KP KR"),
    "Latin America": countries("AR BO BR CL CO CR CU DO EC GT HN MX NI PA PE PY SV UY VE"),
}

# (name A, name B, side A, side B): "A-B relations" (en dash) when both sides are salient and named
# together in at least two sentences.
RELATIONSHIPS: list[tuple[str, str, list[str], list[str]]] = [
    ("US", "Russia", ["US"], ["RU"]),
    ("US", "China", ["US"], ["CN"]),
    ("US", "Iran", ["US"], ["IR"]),
    ("US", "North Korea", ["US"], ["KP"]),
    ("US", "Cuba", ["US"], ["CU"]),
    ("US", "Mexico", ["US"], ["MX"]),
    ("US", "Venezuela", ["US"], ["VE"]),
    ("US", "Israel", ["US"], ["IL"]),
    ("US", "Saudi Arabia", ["US"], ["SA"]),
    ("US", "EU", ["US"], EU),
    ("Russia", "China", ["RU"], ["CN"]),
    ("Russia", "NATO", ["RU"], ["Q7184"]),
    ("Russia", "Turkey", ["RU"], ["TR"]),
    ("EU", "Russia", EU, ["RU"]),
    ("EU", "China", EU, ["CN"]),
    ("EU", "UK", EU, ["GB"]),
    ("China", "Taiwan", ["CN"], ["TW"]),
    ("China", "Japan", ["CN"], ["JP"]),
    ("India", "China", ["IN"], ["CN"]),
    ("India", "Pakistan", ["IN"], ["PK"]),
    ("Inter-Korean", "", ["KR"], ["KP"]),
    ("Japan", "South Korea", ["JP"], ["KR"]),
    ("Saudi Arabia", "Iran", ["SA"], ["IR"]),
    ("Israel", "Iran", ["IL"], ["IR"]),
    ("Greece", "Turkey", ["GR"], ["TR"]),
]

PALESTINIANS = [
    "PS",
    "mm:org:hamas",
    "mm:org:islamic-jihad",
    "mm:org:fatah",
    "mm:org:palestine-liberation-organization",
    "mm:region:gaza",
    "mm:region:west-bank",
]


def _rule(**conditions: Any) -> dict[str, Any]:
    return conditions


# (label, kind, rules) of conflicts and issues of the last decade.
CONFLICTS: list[tuple[str, str, list[dict[str, Any]]]] = [
    (
        f"Russia{DASH}Ukraine war",
        "conflict",
        [
            _rule(
                actors=[["RU"], ["UA", "mm:region:crimea", "mm:region:donbas"]],
                iptc=[CONFLICT],
            ),
            _rule(
                keywords=[
                    "war in Ukraine",
                    "invasion of Ukraine",
                    "Ukraine war",
                    "Russia-Ukraine war",
                    "war in eastern Ukraine",
                    "war in Donbas",
                ]
            ),
        ],
    ),
    (
        "Syrian civil war",
        "conflict",
        [
            _rule(places=["SY"], iptc=[CONFLICT]),
            _rule(
                keywords=[
                    "Syrian civil war",
                    "civil war in Syria",
                    "Syrian war",
                    "war in Syria",
                    "Syrian conflict",
                    "conflict in Syria",
                ]
            ),
        ],
    ),
    (
        f"Israeli{DASH}Palestinian conflict",
        "conflict",
        [
            _rule(actors=[["IL"], PALESTINIANS], iptc=[CONFLICT]),
            _rule(
                keywords=[
                    "Israeli-Palestinian conflict",
                    "two-state solution",
                    "Middle East peace process",
                ]
            ),
        ],
    ),
    (
        "Gaza war",
        "conflict",
        [
            _rule(
                entities=["mm:region:gaza", "mm:org:hamas"], places=["IL", "PS"], iptc=[CONFLICT]
            ),
            _rule(keywords=["Gaza war", "war in Gaza", "Israel-Hamas war"]),
        ],
    ),
    (
        f"Israel{DASH}Hezbollah conflict",
        "conflict",
        [_rule(actors=[["IL"], ["mm:org:hezbollah", "LB"]], iptc=[CONFLICT])],
    ),
    (
        "Yemeni civil war",
        "conflict",
        [
            _rule(places=["YE"], iptc=[CONFLICT]),
            _rule(entities=["mm:org:houthis"], iptc=[CONFLICT]),
            _rule(keywords=["Yemeni civil war", "war in Yemen", "Yemen war"]),
        ],
    ),
    (
        "War in Afghanistan",
        "conflict",
        [
            _rule(places=["AF"], iptc=[CONFLICT]),
            _rule(entities=["mm:org:taliban"], iptc=[CONFLICT]),
        ],
    ),
    (
        "War against the Islamic State",
        "conflict",
        [
            _rule(entities=["mm:org:islamic-state"], iptc=[CONFLICT], min_mentions=2),
        ],
    ),
    ("Conflict in Iraq", "conflict", [_rule(places=["IQ"], iptc=[CONFLICT])]),
    ("Libyan civil war", "conflict", [_rule(places=["LY"], iptc=[CONFLICT])]),
    (
        "Sudanese civil war",
        "conflict",
        [
            _rule(places=["SD"], iptc=[CONFLICT]),
            _rule(keywords=["Rapid Support Forces"]),
        ],
    ),
    ("South Sudanese civil war", "conflict", [_rule(places=["SS"], iptc=[CONFLICT])]),
    (
        "Tigray war",
        "conflict",
        [
            _rule(keywords=["Tigray", "TPLF", "Tigrayan"], iptc=[CONFLICT]),
        ],
    ),
    (
        "Nagorno-Karabakh conflict",
        "conflict",
        [
            _rule(actors=[["AM"], ["AZ"]], iptc=[CONFLICT]),
            _rule(keywords=["Nagorno-Karabakh", "Karabakh"]),
        ],
    ),
    (
        f"Kurdish{DASH}Turkish conflict",
        "conflict",
        [
            _rule(
                actors=[
                    ["TR"],
                    [
                        "mm:org:kurdistan-workers-party",
                        "mm:org:people-s-protection-units",
                        "mm:org:syrian-democratic-forces",
                    ],
                ],
                iptc=[CONFLICT],
                min_sentences=1,
            ),
        ],
    ),
    ("Conflict in Myanmar", "conflict", [_rule(places=["MM"], iptc=[CONFLICT])]),
    ("Rohingya crisis", "issue", [_rule(keywords=["Rohingya"])]),
    ("Boko Haram insurgency", "conflict", [_rule(entities=["mm:org:boko-haram"], iptc=[CONFLICT])]),
    (
        "Conflict in Somalia",
        "conflict",
        [
            _rule(places=["SO"], iptc=[CONFLICT]),
            _rule(entities=["mm:org:al-shabaab"], iptc=[CONFLICT]),
        ],
    ),
    ("Sahel insurgency", "conflict", [_rule(places=["ML", "BF", "NE"], iptc=[CONFLICT])]),
    ("Conflict in eastern Congo", "conflict", [_rule(places=["CD"], iptc=[CONFLICT])]),
    (
        "Kashmir conflict",
        "conflict",
        [
            _rule(keywords=["Kashmir", "Line of Control"], places=["IN", "PK"], iptc=[CONFLICT]),
        ],
    ),
    (
        "Iran nuclear programme",
        "issue",
        [
            _rule(
                places=["IR"],
                keywords=["nuclear", "uranium", "enrichment", "centrifuges", "JCPOA"],
            ),
            _rule(
                keywords=[
                    "Iran nuclear deal",
                    "Iranian nuclear",
                    "JCPOA",
                    "Joint Comprehensive Plan of Action",
                ]
            ),
        ],
    ),
    (
        "North Korean nuclear programme",
        "issue",
        [
            _rule(places=["KP"], keywords=["nuclear", "ballistic missile", "ICBM", "warhead"]),
        ],
    ),
    (
        "Brexit",
        "issue",
        [
            _rule(keywords=["Brexit", "Brexiteer", "Brexiteers"]),
            _rule(
                actors=[EU, ["GB"]],
                keywords=["withdrawal agreement", "Article 50", "leave the European Union"],
            ),
        ],
    ),
    (
        "South China Sea dispute",
        "issue",
        [
            _rule(keywords=["South China Sea"], iptc=[POLITICS]),
            _rule(keywords=["South China Sea"], iptc=[CONFLICT]),
        ],
    ),
    (
        "Mexican drug war",
        "conflict",
        [
            _rule(places=["MX"], keywords=["cartel", "cartels"], iptc=[CRIME]),
        ],
    ),
    ("Hong Kong protests", "issue", [_rule(places=["HK"], iptc=[CIVIL_UNREST])]),
]


def slug(label: str) -> str:
    """'US-Russia relations' (with any dash) -> 'us-russia-relations'."""
    text = unicodedata.normalize("NFKD", label)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _tag(label: str, kind: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": f"tag:{slug(label)}", "label": label, "kind": kind, "rules": rules}


def build(kb: KnowledgeBase) -> tuple[list[dict[str, Any]], list[str]]:
    """The tags, and the ISO codes left out because the knowledge base cannot link them."""
    tags: list[dict[str, Any]] = []
    missing = []
    codes = {str(c.alpha_2) for c in pycountry.countries}
    codes |= {e.country for e in kb if e.kind == "country" and e.country}  # Kosovo (XK)
    for code in sorted(codes):
        entry = kb.country(code)
        if entry is None:
            missing.append(code)
            continue
        tags.append(_tag(entry.name, "country", [{"places": [code]}]))
    for label, members in WORLD_REGIONS.items():
        tags.append(_tag(label, "region", [{"places": members}]))
    regions = sorted((e for e in kb if e.kind == "region"), key=lambda e: e.name)
    organisations = sorted((e for e in kb if e.kind in ORGANISATION_KINDS), key=lambda e: e.name)
    for kind, entries in (("region", regions), ("organisation", organisations)):
        for entry in entries:
            tag = _tag(entry.name, kind, [])
            tag["rules"] = [
                {"id": f"{tag['id']}#mentions", "entities": [entry.id], "min_mentions": MENTIONS},
                {"id": f"{tag['id']}#salience", "entities": [entry.id], "min_salience": SALIENCE},
            ]
            tags.append(tag)
    for name_a, name_b, a, b in RELATIONSHIPS:
        label = f"{name_a}{DASH}{name_b} relations" if name_b else f"{name_a} relations"
        tags.append(_tag(label, "relationship", [{"actors": [a, b], "min_salience": 0.03}]))
    for label, kind, rules in CONFLICTS:
        tags.append(_tag(label, kind, rules))
    ids = [tag["id"] for tag in tags]
    clashes = sorted({i for i in ids if ids.count(i) > 1})
    if clashes:
        raise SystemExit(f"tag ids clash: {clashes}")
    return tags, missing


HEADER = """\
# Mediamon's taxonomy of subject tags, built by scripts/build_taxonomy.py: do not edit by hand.
# To add or change tags, write your own file (same format, schemas/taxonomy.v1.json) and point
# MEDIAMON_TAXONOMY_PATH at it: with MEDIAMON_TAXONOMY_MODE=extend (the default) its tags are
# added to these (a tag with the id of one of these replaces it; `enabled: false` removes it),
# with MEDIAMON_TAXONOMY_MODE=replace they are the only ones.
# Country names from the knowledge base (pipeline/data/kb.json), ISO 3166-1 codes from pycountry.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=TAXONOMY_PATH)
    args = parser.parse_args()
    kb = KnowledgeBase.load()
    tags, missing = build(kb)
    taxonomy = Taxonomy.model_validate({"version": 1, "tags": tags})
    Tagger(taxonomy, kb)  # every country, entity and IPTC code must resolve
    text = yaml.safe_dump(
        {"version": 1, "tags": tags},
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=None,
    )
    args.output.write_text(HEADER + text, encoding="utf-8")
    kinds: dict[str, int] = {}
    for tag in tags:
        kinds[tag["kind"]] = kinds.get(tag["kind"], 0) + 1
    print(f"{len(tags)} tags {kinds} -> {args.output}")
    print(f"ISO 3166-1 codes without a knowledge-base country (not tagged): {' '.join(missing)}")


if __name__ == "__main__":
    main()
