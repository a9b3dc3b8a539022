"""MkDocs hooks of Mediamon's documentation site (registered in ``mkdocs.yml``).

They generate the reference tables that must not drift from the code at build time, in place
of a marker on the page: ``<!-- generated: settings -->`` becomes the table of every field of
``pipeline.settings.Settings``, ``<!-- generated: metrics -->`` the table of every metric of
``pipeline.metrics.Metrics``. They put the repository files that the pages link to with
``../`` (schemas, examples, deploy/README.md, CONTRIBUTING.md) into the site under ``repo/``,
so that the same links work on the site and in the repository, and they warn (an error
under ``mkdocs build --strict``) when a page names a ``MEDIAMON_*`` setting or a
``mediamon_*`` metric that the code does not have. No copy of a generated table is committed.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
import types
from functools import cache
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from prometheus_client.metrics import MetricWrapperBase
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from pipeline.metrics import Metrics
from pipeline.settings import Settings

log = logging.getLogger("mkdocs.hooks.mediamon")

SETTINGS_MARKER = "<!-- generated: settings -->"
METRICS_MARKER = "<!-- generated: metrics -->"
# Where the repository's own files go in the site; a page's ``../PATH`` link is pointed there.
REPO_PREFIX = "repo"

_SETTING = re.compile(r"\bMEDIAMON_[A-Z][A-Z0-9_]*\b(?!\*)")  # not MEDIAMON_TOPIC_*
_BARE_SETTING = re.compile(r"(?<![`\w])MEDIAMON_[A-Z][A-Z0-9_]*(?![`\w])")
_METRIC = re.compile(r"\bmediamon_[a-z][a-z0-9_]*\b(?!\*)")
# A relative link: no scheme (":"), not an anchor alone.
_LINK = re.compile(r"\]\(([^)\s#:]+)(#[^)\s]*)?\)")
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "info": ("_info",),
    "gauge": (),
}
_TYPE_NAMES: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    Path: "path",
    SecretStr: "secret string",
}


def env_name(field: str) -> str:
    """The environment variable of a settings field."""
    return f"MEDIAMON_{field.upper()}"


def _cell(text: str) -> str:
    """Text fit for one cell of a Markdown table."""
    return " ".join(text.split()).replace("|", "\\|")


def _type_of(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return "one of " + ", ".join(f"`{arg}`" for arg in args)
    if origin in (Union, types.UnionType):
        kept = [arg for arg in args if arg is not type(None)]
        return " or ".join(_type_of(arg) for arg in kept)
    if origin is list:
        return f"list of {_type_of(args[0])}s (JSON)"
    return _TYPE_NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _bounds(info: FieldInfo) -> list[str]:
    bounds = []
    for item in info.metadata:
        for attribute, sign in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
            value = getattr(item, attribute, None)
            if value is not None:
                bounds.append(f"{sign} {value}")
        if getattr(item, "min_length", None) == 1:
            bounds.append("not empty")
    return bounds


def _default(info: FieldInfo) -> str:
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return f"`{json.dumps(value)}`"
    text = str(value)
    return f"`{text}`" if text else "`''`"


def _described(text: str) -> str:
    """A description with the settings it names in code style."""
    return _BARE_SETTING.sub(lambda m: f"`{m.group(0)}`", _cell(text))


def settings_table() -> str:
    """The Markdown table of every setting: variable, type, default, description."""
    rows = [
        "| variable | type | default | description |",
        "| --- | --- | --- | --- |",
    ]
    for name, info in Settings.model_fields.items():
        kind = ", ".join([_type_of(info.annotation), *_bounds(info)])
        description = _described(info.description or "")
        rows.append(f"| `{env_name(name)}` | {kind} | {_default(info)} | {description} |")
    return "\n".join(rows)


@cache
def _metrics() -> Metrics:
    return Metrics()


def _families() -> list[MetricWrapperBase]:
    return [m for m in vars(_metrics()).values() if isinstance(m, MetricWrapperBase)]


def metric_name(metric: MetricWrapperBase) -> str:
    """The name a metric is exported under (``_total`` for counters, ``_info`` for infos)."""
    suffix = {"counter": "_total", "info": "_info"}
    return str(metric._name) + suffix.get(metric._type or "", "")


def metric_names() -> set[str]:
    """Every series name the worker's own metrics export, with each type's suffixes."""
    names = set()
    for metric in _families():
        names.add(metric._name)
        names.update(metric._name + suffix for suffix in _SUFFIXES.get(metric._type or "", ()))
    return names


def _start_labels() -> dict[str, dict[str, list[str]]]:
    """By metric, the values of each label that exist from start-up."""
    values: dict[str, dict[str, list[str]]] = {}
    for family in _metrics().registry.collect():
        for sample in family.samples:
            for label, value in sample.labels.items():
                seen = values.setdefault(family.name, {}).setdefault(label, [])
                if label != "le" and value not in seen:
                    seen.append(value)
    return values


def metrics_table() -> str:
    """The Markdown table of every metric of the worker: name, type, labels, help text."""
    start = _start_labels()
    rows = ["| metric | type | labels | help |", "| --- | --- | --- | --- |"]
    for metric in _families():
        kind = metric._type or ""
        found = start.get(metric._name, {})
        names = list(metric._labelnames) or ([] if kind != "info" else list(found))
        labels = []
        for label in names:
            shown = found.get(label) if kind != "info" else None
            listed = f" ({', '.join(f'`{v}`' for v in shown)})" if shown else ""
            labels.append(f"`{label}`{listed}")
        help_text = _cell(metric._documentation)
        rows.append(f"| `{metric_name(metric)}` | {kind} | {', '.join(labels)} | {help_text} |")
    return "\n".join(rows)


def render(markdown: str) -> str:
    """A page's Markdown with the generated tables in place of their markers."""
    if SETTINGS_MARKER in markdown:
        markdown = markdown.replace(SETTINGS_MARKER, settings_table())
    if METRICS_MARKER in markdown:
        markdown = markdown.replace(METRICS_MARKER, metrics_table())
    return markdown


def unknown_names(markdown: str) -> list[str]:
    """The ``MEDIAMON_*`` settings and ``mediamon_*`` metrics a page names that do not exist."""
    settings = {env_name(name) for name in Settings.model_fields}
    metrics = metric_names()
    unknown = [name for name in _SETTING.findall(markdown) if name not in settings]
    unknown += [name for name in _METRIC.findall(markdown) if name not in metrics]
    return sorted(set(unknown))


def _repo_root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def repository_path(src_uri: str) -> str:
    """Where a page of the site is in the repository: ``docs/PAGE``, or the original of a
    repository file put under ``repo/``."""
    prefix = f"{REPO_PREFIX}/"
    return src_uri[len(prefix) :] if src_uri.startswith(prefix) else f"docs/{src_uri}"


def link_target(src_uri: str, link: str) -> str:
    """The repository path a page's relative link points to."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(repository_path(src_uri)), link))


def _site_uri(target: str) -> str:
    """Where a repository file is in the site."""
    return target[len("docs/") :] if target.startswith("docs/") else f"{REPO_PREFIX}/{target}"


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the repository files the pages link to (``../schemas/...``) under ``repo/``, and
    those that the added Markdown files link to in turn."""
    root = _repo_root(config)
    pages = [(page.src_uri, Path(page.abs_src_path or "")) for page in files.documentation_pages()]
    added: set[str] = set()
    while pages:
        src_uri, path = pages.pop()
        for link, _ in _LINK.findall(path.read_text()):
            target = link_target(src_uri, link)
            if target.startswith(("docs/", "../")) or target in added:
                continue
            if not (root / target).is_file():
                continue  # a link to nothing stays as it is, for mkdocs to report
            added.add(target)
            content = (root / target).read_bytes()
            files.append(File.generated(config, _site_uri(target), content=content))
            if target.endswith(".md"):
                pages.append((_site_uri(target), root / target))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Generate the tables, point links to repository files at their copies in the site and
    check the names."""
    for name in unknown_names(markdown):
        log.warning("%s names %s, which the code does not have", page.file.src_uri, name)
    here = posixpath.dirname(page.file.src_uri) or "."

    def into_site(match: re.Match[str]) -> str:
        uri = _site_uri(link_target(page.file.src_uri, match.group(1)))
        if files.get_file_from_path(uri) is None:
            return match.group(0)
        return f"]({posixpath.relpath(uri, here)}{match.group(2) or ''})"

    return render(_LINK.sub(into_site, markdown))
