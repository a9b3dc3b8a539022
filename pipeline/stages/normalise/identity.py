"""Identity of an article: canonical URL, registered domain, stable article id, content hash."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from tld import Result, get_tld

from pipeline.models import Article
from pipeline.text.folding import fold

ID_PREFIX = "a-"
ID_HEX_CHARS = 24

_DEFAULT_PORTS = {"http": 80, "https": 443}
_TRACKING_PARAMS = frozenset(
    {
        "_ga",
        "_gl",
        "cmpid",
        "dclid",
        "fbclid",
        "gclid",
        "gclsrc",
        "igshid",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "msclkid",
        "ocid",
        "smid",
        "yclid",
    }
)
_TRACKING_PREFIX = "utm_"
_HOST_RE = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)+")
_SEGMENT_SAFE = "!$&'()*+,;=:@-._~"


def _host(netloc_host: str | None) -> str | None:
    """The lower-case ASCII (IDNA) form of a host name, or None when it is not a usable one."""
    if not netloc_host:
        return None
    try:
        host = netloc_host.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    return host if _HOST_RE.fullmatch(host) else None


def _path(path: str) -> str:
    """``path`` without dot segments or a trailing slash, with uniform percent-encoding."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(quote(unquote(segment), safe=_SEGMENT_SAFE))
    return "/" + "/".join(segments)


def canonical_url(url: str) -> str | None:
    """The canonical form of an http(s) URL, or None if ``url`` is not a usable http(s) URL.

    Lower-cases scheme and host (IDNA-encoded), drops user info, default ports, the fragment,
    dot segments, a trailing slash and tracking parameters (``utm_*``, ``fbclid``, ...), sorts
    the remaining query parameters and normalises percent-encoding.
    """
    text = url.strip()
    if not text or any(char.isspace() or not char.isprintable() for char in text):
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = _host(parts.hostname)
    if scheme not in _DEFAULT_PORTS or host is None:
        return None
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    params = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() not in _TRACKING_PARAMS and not key.lower().startswith(_TRACKING_PREFIX)
    )
    query = urlencode(params, quote_via=quote, safe=_SEGMENT_SAFE)
    return urlunsplit((scheme, netloc, _path(parts.path), query, ""))


def registered_domain(url: str) -> str | None:
    """The registered domain of ``url`` ('https://www.bbc.co.uk/news' -> 'bbc.co.uk'), or None.

    The scheme may be missing ('www.example.com/path'). Uses the Public Suffix List bundled
    with ``tld`` (private suffixes included, so 'x.blogspot.com' stays whole); a host under a
    suffix the list does not know (an intranet or reserved name such as 'news.example') gives
    its last two labels. IP addresses, single labels and bare suffixes give None. The result
    is lower-case ASCII (IDNA).
    """
    text = url.strip()
    try:
        host = _host(urlsplit(text if "//" in text else "//" + text).hostname)
    except ValueError:
        return None
    if host is None:
        return None
    parsed = get_tld("http://" + host, as_object=True, fail_silently=True)
    if isinstance(parsed, Result):
        return parsed.fld if parsed.fld != parsed.tld else None
    labels = host.split(".")
    if len(labels) < 2 or labels[-1].isdigit() or ":" in host:
        return None
    return ".".join(labels[-2:])


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def article_id(article: Article) -> str:
    """A stable id, 'a-' and 24 hex digits of a SHA-256.

    From the canonical URL when the article has a usable one (scheme and a leading 'www.'
    ignored, so http/https and www/bare variants agree), else from the case- and
    whitespace-normalised title and body.
    """
    url = canonical_url(article.url) if article.url else None
    if url is not None:
        key = "url:" + re.sub(r"^https?://(?:www\.)?", "", url)
    else:
        key = "text:" + fold(article.title or "", "text") + "\n" + fold(article.body, "text")
    return ID_PREFIX + _digest(key)[:ID_HEX_CHARS]


def content_hash(body: str) -> str:
    """SHA-256 (hex) of ``body`` in NFC, case-folded, with whitespace runs made single spaces."""
    return _digest(fold(body, "text"))
