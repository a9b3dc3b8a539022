"""Inputs for the fault tests, generated at run time: small varied English articles, the bad
inputs every worker must dead-letter, and hostile payloads aimed at the parser."""

from __future__ import annotations

import base64
import gzip
import random
from dataclasses import dataclass

import orjson

from pipeline.models import RawRecord
from pipeline.stages.normalise.article import normalise
from pipeline.stages.normalise.identity import article_id, canonical_url

# ---------------------------------------------------------------------------------------------
# Valid articles

_PEOPLE = (
    "Maria Lopez", "David Chen", "Amira Haddad", "John Okafor", "Elena Petrova", "Tom Walsh",
    "Priya Raman", "Lars Nilsson", "Grace Mensah", "Hiroshi Tanaka", "Sofia Rossi", "Omar Aziz",
)  # fmt: skip
_ORGS = (
    "the World Bank", "Siemens", "the Red Cross", "Network Rail", "the European Commission",
    "Toyota", "the United Nations", "Shell", "the Bank of England", "Unilever", "NATO",
)  # fmt: skip
_PLACES = (
    "Lisbon", "Nairobi", "Toronto", "Manchester", "Osaka", "Warsaw", "Lagos", "Melbourne",
    "Chicago", "Hamburg", "Mumbai", "Dublin", "Santiago", "Cairo", "Helsinki",
)  # fmt: skip
_TOPICS = (
    ("a new rail line", "opened", "commuters welcomed the shorter journey"),
    ("the harbour strike", "ended", "dock workers returned to their shifts"),
    ("a flood defence plan", "was approved", "residents had waited years for it"),
    ("the budget talks", "stalled", "negotiators left without a statement"),
    ("a vaccine trial", "began", "doctors expect the first results in spring"),
    ("the wind farm", "was delayed", "engineers found faults in two turbines"),
    ("a school reform", "was announced", "teachers asked for more details"),
    ("the airport expansion", "was blocked", "campaigners celebrated outside the court"),
)
_SENTENCES = (
    "{person} said the decision had been discussed for months.",
    "Officials in {place} confirmed the figures on {day}.",
    "{org} said it would publish a full report next week.",
    "Critics argued that the plan came too late for many families.",
    "The council will meet again on {day} to review progress.",
    "{person}, a spokesperson for {org}, declined to comment further.",
    "Local businesses in {place} reported a rise in bookings.",
    "Analysts expect the cost to rise by {pct} percent over two years.",
    "The minister is due to visit {place} later this month.",
    "Union leaders said they would study the offer carefully.",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


def _story(rng: random.Random, index: int) -> tuple[str, str, str]:
    """(title, body, url) of a small, unique English news story."""
    subject, verb, reaction = rng.choice(_TOPICS)
    place, person, org = rng.choice(_PLACES), rng.choice(_PEOPLE), rng.choice(_ORGS)
    title = f"{subject.capitalize()} in {place} {verb}, story {index}"
    lead = f"{subject.capitalize()} in {place} {verb} on {rng.choice(_DAYS)}, and {reaction}."
    fills = {
        "person": person,
        "org": org,
        "place": place,
        "day": rng.choice(_DAYS),
        "pct": rng.randint(2, 40),
    }
    middle = [s.format(**fills) for s in rng.sample(_SENTENCES, rng.randint(2, 5))]
    body = " ".join([lead, *middle, f"Reference number {index}-{rng.randint(1000, 9999)}."])
    url = f"https://www.news-{index % 7}.example.org/2026/05/{index}/story?utm_source=feed"
    return title, body, url


def generate_articles(count: int, seed: int = 7) -> list[bytes]:
    """``count`` distinct small English articles in the ingest formats (JSON dialects,
    Markdown text, a little HTML), each with its own URL."""
    rng = random.Random(seed)
    values = []
    for index in range(count):
        title, body, url = _story(rng, index)
        kind = index % 10
        if kind < 5:
            value = orjson.dumps({"title": title, "body": body, "url": url, "author": "Staff"})
        elif kind < 7:
            value = orjson.dumps(
                {
                    "headline": title,
                    "content": body,
                    "link": url,
                    "publishedAt": f"2026-05-{1 + index % 28:02d}T08:00:00Z",
                    "source": {"name": "Example News"},
                }
            )
        elif kind < 9:
            text = f"# {title}\n\nBy Sam Writer\n\nMay 4, 2026\n\n{body}\n\n"
            value = f"{text}Original url: <{url}>\n".encode()
        else:
            value = (
                f'<html lang="en"><head><title>{title}</title>'
                f'<link rel="canonical" href="{url}"></head><body><article><h1>{title}</h1>'
                f"<p>{body}</p><p>{body[::-1][:0]}Updated later.</p></article></body></html>"
            ).encode()
        values.append(value)
    return values


def expected_id(value: bytes, max_bytes: int) -> str:
    """The article id the worker must publish for ``value`` (the same stages, offline)."""
    article = normalise(RawRecord(value=value), max_bytes=max_bytes)
    url = canonical_url(article.url) if article.url else None
    if url is not None:
        article.url = url
    return article_id(article)


# ---------------------------------------------------------------------------------------------
# Bad inputs: each must be dead-lettered with exactly its bytes

BAD_INPUTS: dict[bytes, str] = {
    b"": "empty",
    b"   \n\t ": "empty",
    b"\xff\xfe\xfa not utf-8 \xc3\x28 one": "not_decodable",
    b"caf\xe9 au lait, latin-1 bytes, two": "not_decodable",
    b"overlong \xc0\xaf slash, three": "not_decodable",
    b"encoded surrogate \xed\xa0\x80 four": "not_decodable",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-five": "binary",
    b"\x1f\x8b\x08\x00six" + bytes(range(256)): "binary",
    b"%PDF-1.7 seven": "binary",
    b'{"title": "Unclosed", "body": "no end"': "invalid_json",
    b'{"title": "Trailing comma", "body": "text",}': "invalid_json",
    b"[1, 2, 3]": "invalid_json",
    b'{"body": "x" "y"}': "invalid_json",
}


# ---------------------------------------------------------------------------------------------
# Hostile payloads

PASSWD_MARKERS = ("root:x:0:0", "/bin/bash", "/usr/sbin/nologin", "daemon:x:")
"""Strings of /etc/passwd that must never show up in any output."""

_LOREM = (
    "The harbour authority said on Tuesday that the new cranes would arrive in June. "
    "Workers in Rotterdam welcomed the news after months of delays. "
)


@dataclass(frozen=True)
class Hostile:
    """A hostile payload and what may become of it: ``None`` in ``allowed`` means it may be
    enriched; a string is a dead-letter reason."""

    name: str
    value: bytes
    allowed: frozenset[str | None]


def _any_outcome() -> frozenset[str | None]:
    return frozenset(
        {None, "empty", "binary", "not_decodable", "invalid_json", "invalid_field", "no_text"}
    )


def _h(name: str, value: bytes, *allowed: str | None) -> Hostile:
    return Hostile(name, value, frozenset(allowed) if allowed else _any_outcome())


def _html(body: str, head: str = "", prolog: str = "") -> bytes:
    return f'{prolog}<html lang="en"><head>{head}</head><body>{body}</body></html>'.encode()


def hostile_payloads(max_bytes: int, probe: str, seed: int = 11) -> list[Hostile]:
    """Payloads aimed at the parser. ``probe`` is a loopback URL (``http://127.0.0.1:PORT``)
    that must never be requested; ``max_bytes`` the worker's message size limit."""
    rng = random.Random(seed)
    article = f"<article><h1>Cranes for the harbour</h1><p>{_LOREM * 3}</p></article>"
    out: list[Hostile] = []

    # Random bytes and broken encodings
    for n in (1, 7, 64, 4096, 100_000):
        out.append(_h(f"random-{n}", rng.randbytes(n)))
    out += [
        _h("utf8-truncated", "Grüße aus Köln, ".encode() * 50 + b"\xe2\x82", "not_decodable"),
        _h("utf8-overlong-nul", b"text \xc0\x80 with an overlong NUL " * 20, "not_decodable"),
        _h("utf8-surrogate", b"\xed\xb0\x80 lone low surrogate " * 20, "not_decodable"),
        _h("utf8-above-max", b"\xf4\x90\x80\x80 beyond U+10FFFF " * 20, "not_decodable"),
        _h("utf16-bom-text", "\ufeffArticle in UTF-16".encode("utf-16-le"), "binary"),
        _h(
            "charset-utf7-surrogate",
            b'<html><head><meta charset="utf-7"></head><body><p>+2AA- and \xff '
            + _LOREM.encode()
            + b"</p></body></html>",
        ),
        _h(
            "charset-unicode-escape",
            b'<html><head><meta charset="unicode_escape"></head><body><p>\\ud800 \\x00 \xff '
            + _LOREM.encode()
            + b"</p></body></html>",
        ),
        _h(
            "charset-undefined",
            b'<html><head><meta charset="undefined"></head><body><p>\xff '
            + _LOREM.encode()
            + b"</p></body></html>",
            "not_decodable",
            "internal_error",
        ),
        _h(
            "charset-bogus",
            b'<?xml version="1.0" encoding="x-no-such-charset"?><html><p>\xff</p></html>',
            "not_decodable",
        ),
    ]

    # JSON: huge, deep, wrong types
    out += [
        _h("json-deep-array", b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
        _h("json-deep-object", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "invalid_json"),
        _h(
            "json-deep-beside-body",
            b'{"body": "' + _LOREM.encode() + b'", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}",
        ),
        _h(
            "json-nested-wrappers",
            orjson.dumps({"article": {"data": {"item": {"story": {"post": {"body": _LOREM}}}}}}),
        ),
        _h(
            "json-many-keys",
            orjson.dumps({**{f"k{i}": i for i in range(max_bytes // 20)}, "body": _LOREM}),
        ),
        _h("json-huge-int", b'{"body": "text", "date": 1' + b"0" * 5000 + b"}", "invalid_json"),
        _h("json-nan", b'{"body": "text", "date": NaN}', "invalid_json"),
        _h("json-duplicate-keys", b'{"body": 1, "body": "' + _LOREM.encode() + b'"}'),
        _h(
            "json-escaped-nul",
            b'{"title": "a\\u0000b", "body": "' + _LOREM.encode() + b'\\u0000"}',
        ),
        _h(
            "json-control-escapes",
            orjson.dumps({"title": "\x01\x02\x1b[31mred\x1b[0m", "body": "\x07\x08" + _LOREM}),
        ),
        _h("json-bidi", orjson.dumps({"title": "\u202egnp.exe", "body": "\u202e\u200d" + _LOREM})),
        # a bare JSON scalar is sniffed as plain text (only '{' and '[' start JSON)
        _h("json-string", b'"just a string"'),
        _h("json-null", b"null"),
        _h("json-list-of-articles", orjson.dumps({"articles": [{"body": _LOREM}]}), "invalid_json"),
    ]
    wrong_values: list[object] = [
        123,
        -1.5e308,
        True,
        None,
        [],
        ["a", "b"],
        {},
        {"name": {"nested": [1, 2]}},
        [[[[["deep"]]]]],
        "",
        "x" * 100_000,
    ]
    fields = (
        "url", "link", "title", "headline", "body", "text", "content", "html", "description",
        "published_at", "date", "pubDate", "author", "authors", "byline", "dc:creator",
        "source", "language", "id", "guid",
    )  # fmt: skip
    for field in fields:
        for index, wrong in enumerate(wrong_values):
            base: dict[str, object] = {"title": "Harbour cranes", "body": _LOREM}
            if field in ("body", "text", "content", "html", "description"):
                base = {"title": "Harbour cranes"}
            base[field] = wrong
            out.append(_h(f"wrong-type-{field}-{index}", orjson.dumps(base)))

    # HTML: scripts, entities, external references
    out += [
        _h(
            "html-scripts",
            _html(
                "<script>fetch('" + probe + "/script')</script>" + article + "<script>"
                "document.write('<img src=" + probe + "/img>')</script>"
                '<img src="' + probe + '/img2" onerror="alert(1)">'
                '<iframe src="' + probe + '/iframe"></iframe>',
                head=f'<link rel="stylesheet" href="{probe}/css"><base href="{probe}/base/">'
                f'<meta http-equiv="refresh" content="0;url={probe}/refresh">'
                f'<script src="{probe}/js"></script>',
            ),
        ),
        _h(
            "html-entities",
            _html(
                "<p>"
                + _LOREM
                + "&amp;&lt;&gt;&quot;&#0;&#x0;&#xD800;&#xDFFF;&#1114112;&#x110000;&#99999999999;"
                "&nbsp;&notanentity;&#;&#x;&#xFFFE;&#65535;&#128512;</p>"
            ),
        ),
        _h(
            "xxe-file",
            _html(
                "<p>&e;</p>" + article,
                prolog='<?xml version="1.0"?><!DOCTYPE html [<!ENTITY e SYSTEM '
                '"file:///etc/passwd">]>',
            ),
        ),
        _h(
            "xxe-file-only",
            b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
            b"<html><body><p>&e;</p></body></html>",
        ),
        _h(
            "xxe-http",
            _html(
                "<p>&e;</p>" + article,
                prolog=f'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY e SYSTEM "{probe}/xxe">]>',
            ),
        ),
        _h(
            "xxe-parameter-entity",
            _html(
                article,
                prolog=f'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY % p SYSTEM "{probe}/dtd">'
                " %p;]>",
            ),
        ),
        _h(
            "external-dtd",
            _html(article, prolog=f'<!DOCTYPE html SYSTEM "{probe}/external.dtd">'),
        ),
        _h(
            "xinclude",
            _html(
                '<div xmlns:xi="http://www.w3.org/2001/XInclude">'
                '<xi:include href="file:///etc/passwd" parse="text"/>'
                f'<xi:include href="{probe}/xinclude" parse="text"/></div>' + article
            ),
        ),
        _h(
            "xml-stylesheet",
            _html(article, prolog=f'<?xml-stylesheet type="text/xsl" href="{probe}/xsl"?>'),
        ),
        _h(
            "billion-laughs",
            (
                '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                + "".join(
                    f'<!ENTITY lol{i} "' + (f"&lol{i - 1};" if i > 1 else "&lol;") * 10 + '">'
                    for i in range(1, 10)
                )
                + "]><html><body><p>&lol9;</p>"
                + article
                + "</body></html>"
            ).encode(),
        ),
        _h(
            "quadratic-blowup",
            (
                '<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "'
                + "x" * 50_000
                + '">]><html><body><p>'
                + "&a;" * 5_000
                + "</p></body></html>"
            ).encode(),
        ),
        _h(
            "json-with-xxe-html",
            orjson.dumps(
                {
                    "html": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM '
                    '"file:///etc/passwd">]><html><body><p>&e;</p>' + article + "</body></html>",
                    "url": probe + "/json-url",
                }
            ),
        ),
        _h(
            "json-url-to-probe",
            orjson.dumps({"url": probe + "/article", "title": "Fetch me", "body": _LOREM}),
            None,
        ),
        _h(
            "text-url-to-probe",
            f"# Fetch me\n\nBy Jane Doe\n\n{_LOREM}\n\nOriginal url: <{probe}/text>\n".encode(),
            None,
        ),
    ]

    # Compression bombs and pathological markup
    bomb = gzip.compress(b"\0" * 10_000_000)
    out += [
        _h("gzip-bomb", bomb, "binary"),
        _h(
            "base64-gzip-bomb-in-json",
            orjson.dumps({"title": "Attachment", "body": base64.b64encode(bomb).decode()}),
        ),
        _h("zip-header", b"PK\x03\x04" + bomb, "binary"),
        _h("deep-divs", _html("<div>" * (max_bytes // 12) + _LOREM + "</div>" * (max_bytes // 12))),
        _h("unclosed-p-20k", _html("<p>" * 20_000 + _LOREM)),
        _h("many-attributes-5k", _html("<p " + " ".join(f"a{i}=x" for i in range(5_000)) + ">")),
        _h("unterminated-meta", _html("<p>" + _LOREM + "</p>" + "<meta " * 2_000)),
        _h("unterminated-comment", _html("<p>" + _LOREM + "</p><!--" + "-" * 100_000)),
        _h("cdata", _html("<p><![CDATA[" + _LOREM + "]]></p>" + article)),
        _h("svg-script", _html(f'<svg><script href="{probe}/svg"/></svg>' + article)),
    ]

    # Control characters and sizes near the limit
    controls = "".join(chr(c) for c in range(1, 32) if chr(c) not in "\t\n\r")
    out += [
        _h("control-chars-few", (_LOREM * 20 + controls).encode()),
        _h("control-chars-many", (controls * 200).encode(), "binary"),
        _h("ansi-escapes", ("\x1b[2J\x1b[31m" + _LOREM + "\x1b[0m").encode()),
        _h("only-punctuation", b"!!! ??? ... --- ***", "no_text"),
        _h("form-feeds", ("\f\v" + _LOREM).encode()),
    ]
    # Near the size limit, in English: more than spaCy's 1,000,000 characters, which the entity
    # stage refuses (internal_error; see the report: NER has no per-article length cap)
    near = max_bytes - 64
    text_body = (_LOREM * (near // len(_LOREM) + 1))[:near]
    too_long_for_ner = len(text_body) > 1_000_000
    ner = ("internal_error", None) if too_long_for_ner else (None,)
    out += [
        _h("text-at-limit", text_body.encode(), *ner),
        _h("json-at-limit", b'{"body": "' + text_body.encode()[: max_bytes - 12] + b'"}', *ner),
        _h("over-limit-by-one", b"x" * (max_bytes + 1), "too_large"),
        _h(
            "html-near-limit",
            _html("<p>" + text_body[: max_bytes - 200] + "</p>")[:max_bytes],
            *ner,
            "no_text",
        ),
    ]
    return out


def slow_html(max_bytes: int) -> Hostile:
    """HTML that keeps lxml and trafilatura busy for seconds: unclosed paragraphs up to the
    size limit (about 8 s for 1 MiB on the development machine)."""
    text = _LOREM * 1000
    count = max(0, (max_bytes - len(text) - 100) // 3)
    return _h("slow-unclosed-p", _html("<p>" * count + text)[:max_bytes], None, "no_text")


HOSTILE_TIMESTAMPS_MS = (2**62, 253_402_300_800_000, -(2**62), 0)
"""Kafka timestamps a producer may set (year 146 million, year 10000, far before 1970, the
epoch): the worker must not fail on them."""
