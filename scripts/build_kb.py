"""Build the knowledge base the entity linker ships with: ``pipeline/data/kb.json``.

Usage: ``python scripts/build_kb.py [--countries ../shared/data/gazetteer/countries.json]
[--out pipeline/data/kb.json]``

Sources: ISO 3166-1 country names and codes from pycountry (LGPL data from Debian's iso-codes),
and the hand-curated lists in ``scripts/kb_curated.py`` (demonyms, capitals and news cities,
seats of government, intergovernmental organisations, armed and political groups, news
agencies, heads of state and government and foreign ministers 2015-2026 with their offices).

Each entry: ``id`` (a Wikidata QID where known for certain, else ``mm:<kind>:<slug>``), ``name``,
``type`` (PER, ORG, LOC, MISC), ``kind``, ``aliases``, and where it applies ``country`` (ISO
3166-1 alpha-2), ``demonyms``, ``metonym_of`` (the country a capital stands for),
``short`` (the short forms a later mention may use) and ``roles``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pycountry

sys.path.insert(0, str(Path(__file__).resolve().parent))

import kb_curated as cur
import kb_names as names

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "pipeline" / "data" / "kb.json"

CITY_QIDS = {"Washington": "Q61", "New York": "Q60", "Berlin": "Q64", "London": "Q84",
             "Paris": "Q90", "Moscow": "Q649"}  # fmt: skip

TRANSLATION_LANGUAGES = ("de", "es", "fr", "it", "pt", "nl", "pl", "ru", "uk", "tr", "ar", "fa",
                         "hi", "ja", "ko", "zh-CN")  # fmt: skip

CASE_ENDINGS = {"ия": ("ии", "ию"), "ія": ("ії", "ію")}
"""Russian and Ukrainian country names in -ия/-ія take -ии/-ії in the genitive, dative and
prepositional cases and -ию/-ію in the accusative ("Германия", "в Германии", "посетил
Германию"), which news text uses most."""

# ISO entries that are not countries in the news sense, or that nobody calls by ISO's name.
_SKIP_ISO = {"AQ", "BV", "HM", "TF", "UM", "IO", "SJ", "CC", "CX", "NF", "PN", "GS"}


def slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def plural(word: str) -> str | None:
    if " " in word or word.endswith(("man", "woman", "ese", "sh", "ss", "z", "x", "y", "s")):
        return None
    if word.endswith("ch") and word != "Czech":
        return None
    if word in {"Myanmar", "Vatican", "Lao", "Malagasy", "Basotho", "Swiss", "Turkmen"}:
        return None
    return word + "s"


def unique(items: list[str], drop: set[str] | None = None) -> list[str]:
    seen: set[str] = set(drop or ())
    out = []
    for item in items:
        if item and item not in seen:
            seen.add(item)
            out.append(item)
    return out


def countries() -> list[dict[str, Any]]:
    entries = []
    rows = [(c.alpha_2, c) for c in pycountry.countries if c.alpha_2 not in _SKIP_ISO]
    for code, country in rows:
        name = cur.COUNTRY_NAMES.get(code) or getattr(country, "common_name", None) or country.name
        names = [
            name,
            country.name,
            getattr(country, "common_name", None) or "",
            getattr(country, "official_name", None) or "",
            *cur.COUNTRY_ALIASES.get(code, []),
        ]
        aliases = [a for a in names if "," not in a]  # "Korea, Republic of" is no news name
        demonyms = cur.DEMONYMS.get(code, [])
        demonyms = unique([*demonyms, *(p for d in demonyms if (p := plural(d)))])
        entries.append(
            {
                "id": cur.COUNTRY_QIDS.get(code, f"mm:country:{code.lower()}"),
                "name": name,
                "type": "LOC",
                "kind": "country",
                "country": code,
                "alpha3": country.alpha_3,
                "aliases": unique(aliases, {name}),
                "demonyms": demonyms,
            }
        )
    for code, name, qid in cur.EXTRA_COUNTRIES:
        demonyms = cur.DEMONYMS.get(code, [])
        entries.append(
            {
                "id": qid,
                "name": name,
                "type": "LOC",
                "kind": "country",
                "country": code,
                "aliases": [],
                "demonyms": unique([*demonyms, *(p for d in demonyms if (p := plural(d)))]),
            }
        )
    for suffix, name, successor, aliases, demonyms in cur.FORMER_STATES:
        entries.append(
            {
                "id": f"mm:former:{suffix}",
                "name": name,
                "type": "LOC",
                "kind": "former-country",
                "country": successor,
                "aliases": unique(aliases, {name}),
                "demonyms": demonyms,
            }
        )
    return entries


def places(by_code: dict[str, str]) -> list[dict[str, Any]]:
    entries = []
    for name, code, capital, aliases in cur.CITIES:
        entry: dict[str, Any] = {
            "id": CITY_QIDS.get(name, f"mm:city:{slug(name)}"),
            "name": name,
            "type": "LOC",
            "kind": "capital" if capital else "city",
            "country": code,
            "aliases": unique(aliases, {name}),
        }
        if capital:
            entry["metonym_of"] = by_code[code]
        entries.append(entry)
    for name, code, aliases in cur.REGIONS:
        entries.append(
            {
                "id": f"mm:region:{slug(name)}",
                "name": name,
                "type": "LOC",
                "kind": "region",
                "country": code,
                "aliases": unique(aliases, {name}),
            }
        )
    return entries


def orgs() -> list[dict[str, Any]]:
    entries = []
    for org in cur.ORGS:
        entry: dict[str, Any] = {
            "id": org.get("id") or f"mm:org:{slug(org['name'])}",
            "name": org["name"],
            "type": org.get("type", "ORG"),
            "kind": org["kind"],
            "aliases": unique(org.get("aliases", []), {org["name"]}),
        }
        if "country" in org:
            entry["country"] = org["country"]
        entries.append(entry)
    return entries


def people(by_code: dict[str, str], by_org_name: dict[str, str]) -> list[dict[str, Any]]:
    entries = []
    for person in cur.PEOPLE:
        roles = []
        for role in person.get("roles", []):
            holder: dict[str, Any] = {"title": role["title"], "start": role["start"]}
            holder["end"] = role.get("end")
            if "country" in role:
                holder["of"] = by_code[role["country"]]
            else:
                holder["of"] = by_org_name[role["org"]]
            roles.append(holder)
        entry: dict[str, Any] = {
            "id": person.get("id") or f"mm:person:{slug(person['name'])}",
            "name": person["name"],
            "type": "PER",
            "kind": "person",
            "aliases": unique(person.get("aliases", []), {person["name"]}),
            "roles": roles,
        }
        if "country" in person:
            entry["country"] = person["country"]
        if "short" in person:
            entry["short"] = person["short"]
        entries.append(entry)
    return entries


def translated(entries: list[dict[str, Any]], countries_file: Path | None) -> None:
    """Add the names in other languages: :data:`kb_names.FOREIGN_NAMES`, and each country's
    translations in ``countries_file`` (the gazetteer's ``countries.json``) in the languages
    of :data:`TRANSLATION_LANGUAGES`, except a name another entry already has."""
    taken = {n.casefold(): e["id"] for e in entries for n in [e["name"], *e.get("aliases", [])]}
    extra: dict[str, list[str]] = {
        e["name"]: list(names.FOREIGN_NAMES.get(e["name"], [])) for e in entries
    }
    if countries_file is not None:
        by_code = {e["country"]: e["name"] for e in entries if e["kind"] == "country"}
        for row in json.loads(countries_file.read_text(encoding="utf-8")):
            name = by_code.get(row.get("iso2"))
            if name is None:
                continue
            given = row.get("translations") or {}
            extra[name] += [given[k] for k in TRANSLATION_LANGUAGES if given.get(k)]
            extra[name] += [f"{n[:-2]}{ending}" for n in given.values()
                            for ending in CASE_ENDINGS.get(n[-2:], ())]  # fmt: skip
            if row.get("native"):
                extra[name].append(row["native"])
    for entry in entries:
        mine = []
        for alias in extra[entry["name"]]:
            owner = taken.setdefault(alias.casefold(), entry["id"])
            if owner == entry["id"]:
                mine.append(alias)
        entry["aliases"] = unique([*entry.get("aliases", []), *mine], {entry["name"]})


def build(countries_file: Path | None = None) -> dict[str, Any]:
    country_entries = countries()
    by_code = {e["country"]: e["id"] for e in country_entries if e["kind"] == "country"}
    org_entries = orgs()
    by_org_name = {e["name"]: e["id"] for e in org_entries}
    entries = [*country_entries, *places(by_code), *org_entries, *people(by_code, by_org_name)]
    translated(entries, countries_file)
    ids = [e["id"] for e in entries]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise SystemExit(f"duplicate ids: {sorted(duplicates)}")
    return {
        "version": 1,
        "built_by": "scripts/build_kb.py",
        "sources": [
            f"pycountry {pycountry.__version__ if hasattr(pycountry, '__version__') else ''} "
            "(ISO 3166-1 from Debian iso-codes)".replace("  ", " "),
            "scripts/kb_curated.py and scripts/kb_names.py (hand-curated for Mediamon)",
            *(
                ["countries-states-cities database, countries.json translations (ODbL 1.0)"]
                if countries_file is not None
                else []
            ),
        ],
        "titles": cur.TITLES,
        "role_titles": cur.ROLE_TITLES,
        "entries": entries,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--countries", type=Path, help="the gazetteer's countries.json, for translated names"
    )
    args = parser.parse_args()
    kb = build(args.countries)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(kb, ensure_ascii=False, indent=None, separators=(",", ":"))
    # one entry per line keeps diffs of the shipped file readable
    text = text.replace(',{"id":', ',\n{"id":')
    args.out.write_text(text + "\n", encoding="utf-8")
    kinds: dict[str, int] = {}
    for entry in kb["entries"]:
        kinds[entry["kind"]] = kinds.get(entry["kind"], 0) + 1
    print(f"wrote {len(kb['entries'])} entries to {args.out}: {kinds}")


if __name__ == "__main__":
    main()
