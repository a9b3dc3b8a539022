"""JSON records: fields read through key aliases and wrappers, then the article's parts."""

from __future__ import annotations

import re
from dataclasses import replace

import orjson

from pipeline.models import Reason, Rejected
from pipeline.stages.normalise.authors import author_name, split_authors, unique_names
from pipeline.stages.normalise.dates import parse_date, record_date
from pipeline.stages.normalise.html import from_html, looks_like_html
from pipeline.stages.normalise.identity import registered_domain
from pipeline.stages.normalise.language import language_code
from pipeline.stages.normalise.parts import Parts, http_url, single_line

_URL_KEYS = ("url", "link", "canonicalurl", "canonical", "permalink", "weburl", "articleurl")
_TITLE_KEYS = ("title", "headline", "webtitle")
_BODY_KEYS = ("body", "text", "content", "articlebody", "maintext", "fulltext", "bodytext")
_HTML_KEYS = ("html", "rawhtml")
_SUMMARY_KEYS = ("description", "summary", "abstract", "excerpt")
_DATE_KEYS = (
    "publishedat", "published", "pubdate", "datepublished", "publicationdate", "publishdate",
    "date", "dcdate", "created", "createdat",
)  # fmt: skip
_AUTHOR_KEYS = ("authors", "author", "byline", "creator", "dccreator", "creators")
_SOURCE_KEYS = ("source", "publisher", "sitename", "site", "outlet")
_LANGUAGE_KEYS = ("language", "lang", "inlanguage", "dclanguage")
_ID_KEYS = ("id", "guid", "articleid", "uuid")
_WRAPPER_KEYS = (
    "article", "data", "item", "document", "doc", "record", "payload", "result", "story", "post",
    "entry", "news", "articles", "items", "results", "entries", "stories", "posts", "documents",
)  # fmt: skip
_CONTENT_KEYS = (*_BODY_KEYS, *_HTML_KEYS, *_SUMMARY_KEYS)
_MAX_WRAPPER_DEPTH = 4


def _key(name: str) -> str:
    return re.sub(r"[\W_]", "", name).lower()


def _json_type(value: object) -> str:
    """The JSON name of the type of a parsed value: 'object', 'list', 'string', 'number', ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dict):
        return "object"
    return "list" if isinstance(value, list) else "string"


def _json_id(value: object) -> str | None:
    """The producer's id when it is a string or an integer."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value).strip() or None
    return None


class _Fields:
    """A JSON object read through key aliases."""

    def __init__(self, obj: dict[str, object]) -> None:
        self.obj = obj
        self._by_key: dict[str, tuple[str, object]] = {}
        for name, value in obj.items():
            self._by_key.setdefault(_key(name), (name, value))

    def get(self, keys: tuple[str, ...]) -> tuple[str, object] | None:
        """The first of ``keys`` holding a value: not null and not a blank string."""
        for key in keys:
            entry = self._by_key.get(key)
            if entry is not None and not (
                entry[1] is None or (isinstance(entry[1], str) and not entry[1].strip())
            ):
                return entry
        return None

    def string(self, keys: tuple[str, ...]) -> str | None:
        """The first of ``keys`` holding a value, which must be a string: else INVALID_FIELD."""
        entry = self.get(keys)
        if entry is None:
            return None
        name, value = entry
        if not isinstance(value, str):
            raise Rejected(
                Reason.INVALID_FIELD, f"field {name!r} must be a string, got {_json_type(value)}"
            )
        return value

    def value(self, keys: tuple[str, ...]) -> object:
        entry = self.get(keys)
        return None if entry is None else entry[1]


def _unwrap(obj: dict[str, object]) -> _Fields:
    """The article object, looking into wrappers such as {"article": {...}} or {"data": {...}}."""
    fields = _Fields(obj)
    for _ in range(_MAX_WRAPPER_DEPTH):
        if fields.get(_CONTENT_KEYS) is not None:
            break
        wrapper = fields.get(_WRAPPER_KEYS)
        if wrapper is None:
            break
        name, inner = wrapper
        if isinstance(inner, list):
            raise Rejected(
                Reason.INVALID_JSON,
                f"field {name!r} holds a list of {len(inner)}; send one article per message",
            )
        if not isinstance(inner, dict):
            break
        outer = {key: value for key, value in fields.obj.items() if key != name}
        fields = _Fields({**outer, **inner})
    return fields


def _json_source(value: object) -> tuple[str | None, str | None]:
    """(name, domain) from a source given as a name, a domain or URL, or an object."""
    if isinstance(value, dict):
        name, domain = (
            value.get("name") or value.get("title"),
            value.get("domain") or value.get("url"),
        )
    else:
        name, domain = value, None
    name = single_line(name) if isinstance(name, str) else None
    domain = registered_domain(domain) if isinstance(domain, str) else None
    if domain is None and name is not None and " " not in name and "." in name:
        domain = registered_domain(name)
        name = None if domain is not None else name
    return name, domain


def _keep_offsets(text: str) -> str:
    """Newlines normalised to ``\\n`` and ends stripped; nothing else is touched."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _json_authors(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return unique_names(split_authors(value))
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return ()
    names: list[str] = []
    for item in value:
        if isinstance(item, dict):
            item = item.get("name")
        if isinstance(item, str) and (name := author_name(item)):
            names.append(name)
    return unique_names(names)


def from_json(text: str) -> Parts:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise Rejected(Reason.INVALID_JSON, f"invalid JSON: {error}") from error
    if isinstance(value, list):
        raise Rejected(
            Reason.INVALID_JSON,
            f"a JSON array ({len(value)} items) is not an article; send one object per message",
        )
    if not isinstance(value, dict):
        raise Rejected(Reason.INVALID_JSON, f"expected a JSON object, got {_json_type(value)}")
    fields = _unwrap(value)
    url_text = fields.string(_URL_KEYS)
    url = http_url(url_text) if url_text else None
    title = fields.string(_TITLE_KEYS)
    body = fields.string(_BODY_KEYS)
    html = fields.string(_HTML_KEYS) if body is None else None
    if body is None and html is None:
        body = fields.string(_SUMMARY_KEYS)
    if body is not None and looks_like_html(body):
        body, html = None, body
    if html is not None:
        parts = from_html(html, url)
    elif body is not None:
        parts = Parts(body=_keep_offsets(body))
    else:
        keys = ", ".join(repr(key) for key in ("body", "text", "content", "html", "description"))
        raise Rejected(Reason.NO_TEXT, f"no body text: none of {keys} is a non-blank string")
    source_name, source_domain = _json_source(fields.value(_SOURCE_KEYS))
    language = fields.value(_LANGUAGE_KEYS)
    return replace(
        parts,
        title=(single_line(title) if title else None) or parts.title,
        url=url or parts.url,
        authors=_json_authors(fields.value(_AUTHOR_KEYS)) or parts.authors,
        published_at=record_date(parse_date(fields.value(_DATE_KEYS)), parts.published_at),
        language=(language_code(language) if isinstance(language, str) else None) or parts.language,
        site_name=source_name or parts.site_name,
        site_domain=source_domain,
        external_id=_json_id(fields.value(_ID_KEYS)),
    )
