"""The feed reader's tests share a local HTTP server (tests/sites.py) and the fixture feeds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import FIXTURES
from tests.sites import Answer, Site, serve_site

FEEDS = FIXTURES / "feeds"
__all__ = ["FEEDS", "Answer", "Site"]


@pytest.fixture
def site() -> Iterator[Site]:
    """An HTTP server on a free loopback port, with an empty robots.txt (all allowed)."""
    with serve_site() as running:
        yield running
