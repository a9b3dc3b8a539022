"""Tests of the normalise stage: every input format and dialect, and every rejection reason."""

from __future__ import annotations

import gzip
import json
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.models import Article, RawRecord, Reason, Rejected
from pipeline.stages.normalise.article import normalise
from pipeline.stages.normalise.dates import HTML_PUBLISHED_RE

FIXTURES = Path(__file__).parents[2] / "fixtures" / "normalise"
SAMPLES = Path(__file__).parents[3] / ".." / "shared" / "samples"
REFERENCE = SAMPLES / "moscowtimes-2015-10-15-putin-us-delegation.txt"
MAX_BYTES = 1_048_576

Input = bytes | str | dict[str, object] | list[object]


def _bytes(value: Input) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value).encode("utf-8")


def run(value: Input, origin: str | None = None) -> Article:
    """Normalise ``value`` (JSON-encoded unless bytes or text)."""
    return normalise(RawRecord(value=_bytes(value), origin=origin), max_bytes=MAX_BYTES)


def reject(value: Input, origin: str | None = None) -> Rejected:
    """The rejection that normalising ``value`` must raise."""
    with pytest.raises(Rejected) as caught:
        run(value, origin)
    return caught.value


def fixture(name: str) -> Article:
    return normalise(
        RawRecord(value=(FIXTURES / name).read_bytes(), origin=name), max_bytes=MAX_BYTES
    )


def outcome(record: RawRecord) -> Article | tuple[Reason, str]:
    """An Article, or the reason and message of the rejection; any other exception escapes."""
    try:
        return normalise(record, max_bytes=MAX_BYTES)
    except Rejected as rejected:
        return rejected.reason, rejected.message


# --- bytes: size, emptiness, binary content, decoding -------------------------------------------


def test_too_large() -> None:
    record = RawRecord(value=b'{"body": "' + b"x" * 2000 + b'"}')
    with pytest.raises(Rejected) as caught:
        normalise(record, max_bytes=1024)
    assert caught.value.reason is Reason.TOO_LARGE


@pytest.mark.parametrize("value", [b"", b"   \n\t  \r\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf  \n"])
def test_empty(value: bytes) -> None:
    assert reject(value).reason is Reason.EMPTY


@pytest.mark.parametrize(
    "value",
    [
        gzip.compress(b'{"body": "compressed text"}'),
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00rest-of-zip",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\xff\xd8\xff\xe0\x00\x10JFIF",
    ],
    ids=["gzip", "zip", "pdf", "png", "jpeg"],
)
def test_binary_signatures(value: bytes) -> None:
    assert reject(value).reason is Reason.BINARY


def test_nul_bytes_are_binary() -> None:
    assert reject(b'{"body": "text\x00with a NUL byte"}').reason is Reason.BINARY


def test_control_characters_are_binary() -> None:
    assert reject(b"Some text \x01\x02\x03\x04\x05\x06\x07\x08 and more").reason is Reason.BINARY


def test_utf16_is_binary_not_guessed() -> None:
    assert reject("A title\n\nSome body text.".encode("utf-16")).reason is Reason.BINARY


def test_utf8_bom_is_dropped() -> None:
    article = run(b"\xef\xbb\xbf" + _bytes({"title": "Caf\u00e9 opens", "body": "It opened."}))
    assert article.title == "Caf\u00e9 opens"
    assert article.body == "It opened."


def test_latin1_json_is_not_decodable() -> None:
    rejected = reject('{"body": "Caf\u00e9 au lait"}'.encode("latin-1"))
    assert rejected.reason is Reason.NOT_DECODABLE
    assert "UTF-8" in rejected.message


def test_latin1_text_is_not_decodable() -> None:
    assert reject("Caf\u00e9 au lait.".encode("latin-1")).reason is Reason.NOT_DECODABLE


def test_html_declared_charset_is_used() -> None:
    paragraph = "\u041f\u0440\u0430\u0432\u0438\u0442\u0435\u043b\u044c\u0441\u0442\u0432\u043e "
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
        "<title>\u041d\u043e\u0432\u043e\u0441\u0442\u0438</title></head><body><article>"
        f"<p>{paragraph * 30}</p></article></body></html>"
    )
    article = run(html.encode("windows-1251"))
    assert article.body.startswith(paragraph.strip())


def test_unknown_declared_charset_is_not_decodable() -> None:
    html = b'<html><head><meta charset="no-such-charset"></head><body><p>Caf\xe9</p></body></html>'
    rejected = reject(html)
    assert rejected.reason is Reason.NOT_DECODABLE
    assert "no-such-charset" in rejected.message


# --- JSON ---------------------------------------------------------------------------------------


def test_json_common_dialect() -> None:
    article = run(
        {
            "url": "https://www.example-news.com/world/story-1",
            "title": "  Ministers   meet  ",
            "body": "First paragraph.\n\nSecond paragraph.",
            "published_at": "2021-04-05T10:00:00+02:00",
            "author": "Ada Stone",
            "source": "Example News",
            "language": "en",
            "id": "story-1",
        }
    )
    assert article == Article(
        url="https://www.example-news.com/world/story-1",
        source={"domain": "example-news.com", "name": "Example News"},
        title="Ministers meet",
        authors=["Ada Stone"],
        published_at=datetime(2021, 4, 5, 8, tzinfo=UTC),
        language="en",
        body="First paragraph.\n\nSecond paragraph.",
        external_id="story-1",
    )


def test_json_body_is_kept_whole() -> None:
    body = (
        "Dr.  Ann\u00a0Lee said:\tno.\n\n\n  Indented line  with  gaps.\n"
        "\u201cQuoted,\u201d she said."
    )
    article = run({"body": body})
    assert article.body == body


def test_json_body_only_newlines_and_ends_are_normalised() -> None:
    article = run({"body": "\r\n  Line one  \r\nLine two\rLine three \n\n"})
    assert article.body == "Line one  \nLine two\nLine three"


def test_json_missing_title_is_derived_without_touching_the_body() -> None:
    body = "The committee met on Monday. It agreed on nothing."
    article = run({"body": body})
    assert article.title == "The committee met on Monday."
    assert article.body == body


def test_json_derived_title_is_truncated() -> None:
    body = "word " * 60 + "end."
    article = run({"body": body})
    assert article.title is not None
    assert len(article.title) <= 121
    assert article.title.endswith("\u2026")
    assert article.body == body.strip()


@pytest.mark.parametrize("key", ["body", "text", "content", "articleBody", "Body"])
def test_json_body_keys(key: str) -> None:
    assert run({key: "The text."}).body == "The text."


@pytest.mark.parametrize("key", ["title", "headline", "Title"])
def test_json_title_keys(key: str) -> None:
    assert run({key: "The title", "body": "The text."}).title == "The title"


@pytest.mark.parametrize("key", ["url", "link", "canonical_url", "canonicalUrl"])
def test_json_url_keys(key: str) -> None:
    article = run({key: "https://news.example-site.org/a", "body": "The text."})
    assert article.url == "https://news.example-site.org/a"
    assert article.source.domain == "example-site.org"


def test_json_unusable_url_is_dropped() -> None:
    assert run({"url": "not a url", "body": "The text."}).url is None


def test_json_description_is_a_fallback_only() -> None:
    both = run({"description": "Short summary.", "text": "The full text."})
    assert both.body == "The full text."
    assert run({"description": "Short summary."}).body == "Short summary."


@pytest.mark.parametrize(
    ("key", "expected"),
    [("published_at", 2021), ("publishedAt", 2021), ("PUBLISHED-AT", 2021), ("dc:date", 2021)],
)
def test_json_key_spellings(key: str, expected: int) -> None:
    article = run({key: "2021-01-02", "body": "The text."})
    assert article.published_at is not None
    assert article.published_at.year == expected


def test_json_rss_item() -> None:
    article = fixture("rss_item.json")
    assert article.url == "https://news.ferrywatch.org/2017/02/20/ferry-strike-ends"
    assert article.title == "Ferry strike ends after five days"
    assert article.published_at == datetime(2017, 2, 20, 14, 20, tzinfo=UTC)
    assert article.authors == ["Anja Roos", "Felix Marr"]
    assert article.external_id == "urn:example:item:5521"
    assert article.body.startswith("Ferry crews on the island routes")
    assert article.body.endswith("would leave on schedule.")
    assert "\n\n" in article.body


def test_json_newsapi_article() -> None:
    article = fixture("newsapi.json")
    assert article.source.name == "Example Daily"
    assert article.source.domain == "exampledaily.com"
    assert article.authors == ["Carla Mendes", "Tom Birk"]
    assert article.published_at == datetime(2022, 6, 1, 9, tzinfo=UTC)
    assert article.title == "City opens its first floating park"
    assert article.body.startswith("A park built on a converted cargo barge")


@pytest.mark.parametrize(
    "wrapped",
    [
        {"article": {"title": "T", "body": "The text."}},
        {"data": {"title": "T", "body": "The text."}},
        {"data": {"article": {"title": "T", "body": "The text."}}},
        {"id": 7, "payload": {"title": "T", "body": "The text."}},
    ],
)
def test_json_nested_wrappers(wrapped: dict[str, object]) -> None:
    article = run(wrapped)
    assert (article.title, article.body) == ("T", "The text.")


def test_json_wrapper_keeps_outer_fields() -> None:
    article = run({"id": 7, "payload": {"body": "The text."}})
    assert article.external_id == "7"


def test_json_wrapped_list_is_rejected() -> None:
    rejected = reject({"status": "ok", "articles": [{"title": "a", "content": "b"}]})
    assert rejected.reason is Reason.INVALID_JSON
    assert "'articles'" in rejected.message


def test_json_array_is_not_an_article() -> None:
    rejected = reject([{"body": "one"}, {"body": "two"}])
    assert rejected.reason is Reason.INVALID_JSON
    assert "array" in rejected.message


def test_json_scalar_is_not_an_article() -> None:
    assert reject(b"42", origin="record.json").reason is Reason.INVALID_JSON


@pytest.mark.parametrize("value", [b"{", b'{"body": "x",}', b"[1, 2", b'{"body": NaN}'])
def test_invalid_json(value: bytes) -> None:
    assert reject(value).reason is Reason.INVALID_JSON


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"title": ["a", "b"], "body": "x"}, "field 'title' must be a string, got list"),
        ({"title": 12, "body": "x"}, "field 'title' must be a string, got number"),
        ({"body": {"text": "x"}}, "field 'body' must be a string, got object"),
        ({"text": ["para one", "para two"]}, "field 'text' must be a string, got list"),
        ({"url": ["https://a.example-site.org"], "body": "x"}, "field 'url' must be a string"),
        ({"html": 5}, "field 'html' must be a string, got number"),
    ],
)
def test_json_wrong_field_type(record: dict[str, object], message: str) -> None:
    rejected = reject(record)
    assert rejected.reason is Reason.INVALID_FIELD
    assert rejected.message.startswith(message)


@pytest.mark.parametrize(
    "record",
    [{}, {"title": "Only a title"}, {"body": "   \n  "}, {"body": None}, {"body": "... -- !!"}],
)
def test_json_without_text(record: dict[str, object]) -> None:
    assert reject(record).reason is Reason.NO_TEXT


def test_json_html_field() -> None:
    html = (FIXTURES / "article.html").read_text(encoding="utf-8")
    article = run({"html": html, "title": "Given title", "id": 3})
    assert article.title == "Given title"
    assert article.url == "https://www.riverside-courier.co.uk/nature/otter-count-2020"
    assert article.body.startswith("Volunteers walking the banks")
    assert article.external_id == "3"


def test_json_body_with_html_markup_is_extracted() -> None:
    article = run({"body": "<p>First <b>bold</b> paragraph.</p><p>Second paragraph.</p>"})
    assert article.body == "First bold paragraph.\n\nSecond paragraph."


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2015-10-15T14:03:00+03:00", datetime(2015, 10, 15, 11, 3, tzinfo=UTC)),
        ("2015-10-15T14:03:00Z", datetime(2015, 10, 15, 14, 3, tzinfo=UTC)),
        ("2015-10-15T14:03:00.250Z", datetime(2015, 10, 15, 14, 3, 0, 250000, tzinfo=UTC)),
        ("2015-10-15 14:03:00", datetime(2015, 10, 15, 14, 3, tzinfo=UTC)),
        ("2015-10-15", datetime(2015, 10, 15, tzinfo=UTC)),
        ("Thu, 15 Oct 2015 14:03:00 +0300", datetime(2015, 10, 15, 11, 3, tzinfo=UTC)),
        ("Thu, 15 Oct 2015 14:03:00 GMT", datetime(2015, 10, 15, 14, 3, tzinfo=UTC)),
        ("Thu, 15 Oct 2015 14:03:00 EST", datetime(2015, 10, 15, 19, 3, tzinfo=UTC)),
        ("15 Oct 2015 14:03 -0700", datetime(2015, 10, 15, 21, 3, tzinfo=UTC)),
        (1444917780, datetime(2015, 10, 15, 14, 3, tzinfo=UTC)),
        (1444917780000, datetime(2015, 10, 15, 14, 3, tzinfo=UTC)),
        ("1444917780", datetime(2015, 10, 15, 14, 3, tzinfo=UTC)),
        ("1444917780000", datetime(2015, 10, 15, 14, 3, tzinfo=UTC)),
        (1444917780.5, datetime(2015, 10, 15, 14, 3, 0, 500000, tzinfo=UTC)),
        ("October 15, 2015", datetime(2015, 10, 15, tzinfo=UTC)),
        ("Oct. 15, 2015 2:03 PM EDT", datetime(2015, 10, 15, 18, 3, tzinfo=UTC)),
        ("Sept. 30, 2015", datetime(2015, 9, 30, tzinfo=UTC)),
        ("15 October 2015", datetime(2015, 10, 15, tzinfo=UTC)),
        ("15.10.2015", datetime(2015, 10, 15, tzinfo=UTC)),
        ("2015/10/15", datetime(2015, 10, 15, tzinfo=UTC)),
    ],
)
def test_json_dates(value: object, expected: datetime) -> None:
    assert run({"date": value, "body": "The text."}).published_at == expected


@pytest.mark.parametrize(
    "value",
    ["soon", "2015-13-45", "31 Foo 2015", {"when": 1}, True, 10**30, "9999-12-31T23:00:00-05:00"],
)
def test_json_unparseable_date_is_left_out(value: object) -> None:
    assert run({"date": value, "body": "The text."}).published_at is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("By Ada Stone and Ben Ortiz", ["Ada Stone", "Ben Ortiz"]),
        ("Ada Stone, Ben Ortiz", ["Ada Stone", "Ben Ortiz"]),
        ("Ada Stone; Ben Ortiz & Cy Lam", ["Ada Stone", "Ben Ortiz", "Cy Lam"]),
        (["Ada Stone", "by Ben Ortiz"], ["Ada Stone", "Ben Ortiz"]),
        ([{"name": "Ada Stone"}, {"name": "Ben Ortiz"}, {"url": "x"}], ["Ada Stone", "Ben Ortiz"]),
        ({"name": "Ada Stone"}, ["Ada Stone"]),
        ("Ada Stone, Ada Stone", ["Ada Stone"]),
        (42, []),
    ],
)
def test_json_authors(value: object, expected: list[str]) -> None:
    assert run({"author": value, "body": "The text."}).authors == expected


@pytest.mark.parametrize("key", ["authors", "byline", "creator", "dc:creator"])
def test_json_author_keys(key: str) -> None:
    assert run({key: "Ada Stone", "body": "The text."}).authors == ["Ada Stone"]


@pytest.mark.parametrize(
    ("source", "name", "domain"),
    [
        ("Harbour Herald", "Harbour Herald", None),
        ("harbourherald.co.uk", None, "harbourherald.co.uk"),
        (
            {"name": "Harbour Herald", "domain": "www.harbourherald.co.uk"},
            "Harbour Herald",
            "harbourherald.co.uk",
        ),
        ({"id": "hh", "name": "Harbour Herald"}, "Harbour Herald", None),
        ({"url": "https://www.harbourherald.co.uk/"}, None, "harbourherald.co.uk"),
    ],
)
def test_json_source(source: object, name: str | None, domain: str | None) -> None:
    article = run({"source": source, "body": "The text."})
    assert (article.source.name, article.source.domain) == (name, domain)


def test_json_source_domain_falls_back_to_url() -> None:
    article = run({"url": "https://www.harbourherald.co.uk/a", "body": "The text."})
    assert article.source.domain == "harbourherald.co.uk"


@pytest.mark.parametrize(
    ("value", "expected"), [("EN-gb", "en"), ("deu", "de"), ("German", "de"), ("klingon", None)]
)
def test_json_language(value: str, expected: str | None) -> None:
    assert run({"lang": value, "body": "The text."}).language == expected


@pytest.mark.parametrize(("value", "expected"), [(17, "17"), ("  g-1 ", "g-1"), (True, None)])
def test_json_external_id(value: object, expected: str | None) -> None:
    assert run({"guid": value, "body": "The text."}).external_id == expected


# --- HTML ---------------------------------------------------------------------------------------


def test_html_page() -> None:
    article = fixture("article.html")
    assert article.title == "Volunteers Count Record Number of Otters"
    assert article.authors == ["Priya Anand"]
    assert article.published_at == datetime(2020, 8, 14, 6, 45, tzinfo=UTC)
    assert article.url == "https://www.riverside-courier.co.uk/nature/otter-count-2020"
    assert article.source.domain == "riverside-courier.co.uk"
    assert article.source.name == "Riverside Courier"
    assert article.language == "en"
    assert article.body.startswith("Volunteers walking the banks of the River Callow")
    assert article.body.endswith("record sightings through its website until then.")
    assert article.body.count("\n\n") == 3


@pytest.mark.parametrize(
    "meta",
    [
        '<meta property="article:published_time" content="2026-03-20T16:30:00+03:00">',
        '<script type="application/ld+json">{"datePublished": "2026-03-20T13:30:00Z"}</script>',
    ],
)
def test_html_publication_time_keeps_the_time_of_day(meta: str) -> None:
    page = (
        f"<html><head><title>Harbour reopens</title>{meta}</head><body><article>"
        "<h1>Harbour reopens</h1><p>The harbour at Kilrush reopened on Friday after repairs "
        "to the sea wall, the county council said in a statement.</p>"
        "<p>Fishing boats returned within hours, and the ferry to the island will resume "
        "its timetable next week, according to the operator.</p></article></body></html>"
    )
    article = run(page.encode())
    assert article.published_at == datetime(2026, 3, 20, 13, 30, tzinfo=UTC)


def test_html_scripts_styles_and_navigation_do_not_leak() -> None:
    body = fixture("article.html").body
    for leak in (
        "SCRIPT-LEAK",
        "INLINE-SCRIPT",
        "font-family",
        "secret-style",
        "Home",
        "newsletter",
    ):
        assert leak not in body


def test_html_is_sniffed_without_origin() -> None:
    html = (FIXTURES / "article.html").read_bytes()
    assert run(html).body == fixture("article.html").body


def test_html_never_touches_network_or_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("FILE-CONTENT-LEAK", encoding="utf-8")

    # trafilatura would fetch through Python (urllib3), which the patched sockets catch; the
    # entity naming a local file shows that libxml2 resolves no external entity either.
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    html = f"""<?xml version="1.0"?>
<!DOCTYPE html [
  <!ENTITY local SYSTEM "file://{secret}">
  <!ENTITY remote SYSTEM "http://192.0.2.1/remote-entity">
]>
<html><head><link rel="stylesheet" href="http://192.0.2.1/style.css">
<base href="http://192.0.2.1/"></head>
<body><article><p>Entities: &local; &remote;</p>
<p>{"A paragraph about the harbour and its boats. " * 8}</p>
<img src="file://{secret}"><iframe src="http://192.0.2.1/frame"></iframe>
<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{secret}"/>
</article></body></html>"""
    article = run(html)
    assert "FILE-CONTENT-LEAK" not in article.body
    assert "A paragraph about the harbour" in article.body


def test_html_without_text() -> None:
    page = "<html><head><title>Empty</title></head><body><nav></nav></body></html>"
    assert reject(page).reason is Reason.NO_TEXT


def test_html_drops_title_repeated_in_body_and_promotion_lines() -> None:
    paragraph = "The ferry service will resume next week after repairs to the pier. " * 4
    page = (
        "<html><head><title>Ferry service to resume</title></head><body><article>"
        "<h1>Ferry service to resume</h1>"
        f"<p>{paragraph}</p><p>READ MORE: Pier repairs begin</p><p>{paragraph}</p>"
        "<p>Copyright 2020 Harbour Herald. All rights reserved.</p></article></body></html>"
    )
    article = run(page)
    assert article.title == "Ferry service to resume"
    assert article.body == f"{paragraph.strip()}\n\n{paragraph.strip()}"


# --- plain text and Markdown --------------------------------------------------------------------


def test_markdown_layout() -> None:
    article = fixture("markdown_article.md")
    assert article.title == "Harbour Town Votes to Rebuild Its Old Lighthouse"
    assert article.authors == ["Mara Kellington", "Tobias Wren"]
    assert article.published_at == datetime(2021, 3, 3, tzinfo=UTC)
    assert article.url == "https://www.portaldry-gazette.co.uk/2021/03/03/lighthouse-vote-a1234"
    assert article.source.domain == "portaldry-gazette.co.uk"
    assert article.body.startswith("The council of Port Aldry voted on Tuesday")
    assert article.body.endswith("Work is due to start in the autumn.")
    assert "ending a decade of heated debate." in article.body
    assert "The vote passed seven to two." in article.body
    assert "paid for by a regional heritage fund and" in article.body
    for gone in ("Councillor Edda Lunt\n", "Contact", "@", "Original url", "http", "**", "]("):
        assert gone not in article.body


@pytest.mark.skipif(not REFERENCE.exists(), reason="reference sample not available")
def test_reference_article() -> None:
    article = normalise(
        RawRecord(value=REFERENCE.read_bytes(), origin=REFERENCE.name), max_bytes=MAX_BYTES
    )
    assert article.title == "Putin Slams U.S. Refusal to Meet With Russian Delegation"
    assert article.authors == ["Daria Litvinova"]
    assert article.published_at == datetime(2015, 10, 15, tzinfo=UTC)
    assert article.url == (
        "https://www.themoscowtimes.com/2015/10/15/"
        "putin-slams-us-refusal-to-meet-with-russian-delegation-a50285"
    )
    assert article.source.domain == "themoscowtimes.com"
    assert article.body.startswith("President Vladimir Putin called ")
    for gone in ("Contact the author", "@", "mailto", "Original url", "https://"):
        assert gone not in article.body


def test_wire_text() -> None:
    article = fixture("wire.txt")
    assert article.title == "Grain barges stuck as river level falls"
    assert article.body.startswith("VELMORA, June 9 (Example Wire) - Dozens of grain barges")
    assert article.body.endswith("(Reporting by Piet Oudman; Editing by Rosa Lind)")
    assert article.authors == []


def test_header_block() -> None:
    article = fixture("header_block.txt")
    assert article.title == "Night Trains Return to the Coast Line"
    assert article.published_at == datetime(2019, 11, 18, 5, 30, tzinfo=UTC)
    assert article.authors == ["Lena Hartwig", "Omar Saleh"]
    assert article.url == "https://www.railnews-weekly.com/night-trains-return"
    assert article.language == "en"
    assert article.body.startswith("The night train between Karsby")


def test_published_line_promotion_and_copyright() -> None:
    article = fixture("published_line.txt")
    assert article.title == "Small Bakery Wins National Bread Prize"
    assert article.authors == ["Jonas Feld"]
    assert article.published_at == datetime(2018, 5, 12, 8, 15, tzinfo=UTC)
    assert article.body == (
        "A family bakery from the village of Orrin took first prize at the national bread "
        "awards on Saturday for a rye loaf made with a recipe handed down over four "
        "generations.\n\nThe bakery's owner said she would not raise her prices."
    )


def test_markdown_inline_markup() -> None:
    text = (
        "# Heading\n\n"
        "Text with a [link](https://a.example-site.org/x_(y)) and ![a photo](p.jpg) image.\n\n"
        "## A subheading\n\n"
        "Some **strong**, __strong__, *emphasised*, _emphasised_ and `code` words; "
        "snake_case_name and 3 * 4 * 5 stay. An escaped \\*star\\*.\n\n"
        "> A quoted line.\n\n---\n\nLast line.\n"
    )
    article = run(text, origin="a.md")
    assert article.title == "Heading"
    assert article.body == (
        "Text with a link and image.\n\nA subheading\n\n"
        "Some strong, strong, emphasised, emphasised and code words; "
        "snake_case_name and 3 * 4 * 5 stay. An escaped *star*.\n\n"
        "A quoted line.\n\nLast line."
    )


def test_plain_text_whitespace_is_tidied() -> None:
    article = run("Headline  here\r\n\r\n\r\nFirst \t line   of text.\r\nSecond line.\r\n\r\n")
    assert article.title == "Headline here"
    assert article.body == "First line of text.\nSecond line."


def test_text_starting_with_a_sentence_has_a_derived_title() -> None:
    text = "The river rose overnight. Roads were closed.\n\nSchools stayed open."
    article = run(text)
    assert article.title == "The river rose overnight."
    assert article.body == text


def test_single_line_text_is_the_body() -> None:
    article = run("Storm warning for the coast")
    assert article.body == "Storm warning for the coast"
    assert article.title == "Storm warning for the coast"


def test_sentence_starting_with_by_is_body() -> None:
    text = "Budget agreed\n\nBy the end of the year, the town will have a new budget office."
    article = run(text)
    assert article.authors == []
    assert article.body == "By the end of the year, the town will have a new budget office."


def test_short_first_line_is_kept_without_a_header() -> None:
    text = "Election night\n\nPhoto caption here\n\nThe count went on until dawn."
    article = run(text)
    assert article.title == "Election night"
    assert article.body == "Photo caption here\n\nThe count went on until dawn."


def test_markdown_starting_with_a_link_is_text() -> None:
    article = run("[Photo gallery](https://a.example-site.org/g) of the parade.", origin="a.md")
    assert article.body == "Photo gallery of the parade."


def test_text_made_of_header_only_has_no_text() -> None:
    assert reject("Title: Nothing here\nDate: 2020-01-01\n").reason is Reason.NO_TEXT


@pytest.mark.parametrize(
    "text",
    [
        "*a " * 100_000,
        "_a " * 100_000,
        "**a " * 80_000,
        "[a " * 100_000,
        "[a](b(" * 50_000,
        "Title: x\n" * 30_000 + "Body.",
        "\n" * 300_000 + "Body.",
    ],
    ids=["stars", "underscores", "strong", "brackets", "link-targets", "labels", "blank-lines"],
)
def test_hostile_text_takes_linear_time(text: str) -> None:
    start = time.perf_counter()
    outcome(RawRecord(value=("Title\n\n" + text).encode("utf-8")))
    assert time.perf_counter() - start < 2.0


# --- properties ---------------------------------------------------------------------------------

_KEYS = st.sampled_from(
    [
        "title", "headline", "body", "text", "content", "description", "html", "url", "link",
        "date", "pubDate", "publishedAt", "author", "authors", "source", "language", "id",
        "article", "data", "articles", "dc:creator",
    ]
)  # fmt: skip
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["2015-10-15", "Thu, 15 Oct 2015 10:00:00 GMT", "<p>Hi there.</p>"])
)
_JSON = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(_KEYS | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=20,
)
_ORIGINS = st.sampled_from([None, "a.json", "a.html", "a.txt", "a.md"])


@settings(max_examples=200, deadline=None)
@given(value=st.binary(max_size=2000), origin=_ORIGINS)
def test_any_bytes_give_an_article_or_a_rejection(value: bytes, origin: str | None) -> None:
    record = RawRecord(value=value, origin=origin)
    assert outcome(record) == outcome(record)


@settings(max_examples=200, deadline=None)
@given(value=_JSON, origin=_ORIGINS)
def test_any_json_gives_an_article_or_a_rejection(value: object, origin: str | None) -> None:
    record = RawRecord(value=json.dumps(value).encode("utf-8"), origin=origin)
    assert outcome(record) == outcome(record)


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(
        st.text(max_size=60)
        | st.sampled_from(
            ["# T", "By Ada Stone", "Date: 2020-01-01", "<p>", "</p>", "<html>", "\n\n", "["]
        ),
        max_size=12,
    ),
    origin=_ORIGINS,
)
def test_any_text_gives_an_article_or_a_rejection(parts: list[str], origin: str | None) -> None:
    record = RawRecord(value="".join(parts).encode("utf-8", "surrogatepass"), origin=origin)
    assert outcome(record) == outcome(record)


def test_unterminated_meta_tags_give_no_publication_time_and_no_hang() -> None:
    # 200,000 unterminated tags: the quadratic pattern this replaced scanned them for hours
    page = "<html><body><p>Some text here about the harbour.</p>" + "<meta " * 200_000
    assert HTML_PUBLISHED_RE.search(page) is None


def test_an_html_charset_python_cannot_use_is_not_decodable() -> None:
    page = b'<html><head><meta charset="undefined"></head><body><p>\xe9t\xe9</p></body></html>'
    with pytest.raises(Rejected) as caught:
        run(page)
    assert caught.value.reason == Reason.NOT_DECODABLE
