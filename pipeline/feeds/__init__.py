"""``mediamon feeds``: a feed reader that polls RSS, Atom and JSON feeds and news sitemaps,
fetches each new article page politely and safely, and produces it to the ingest topic.

- :mod:`pipeline.feeds.parse`: a feed's or sitemap's bytes to its entries.
- :mod:`pipeline.feeds.lists`: feed lists (OPML, one URL a line) and the active feed set.
- :mod:`pipeline.feeds.safety`: which URLs and addresses a fetch may reach.
- :mod:`pipeline.feeds.fetch`: the HTTP client: limits, redirects, conditional GET.
- :mod:`pipeline.feeds.hosts`: per-host politeness: robots.txt, concurrency, spacing, backoff.
- :mod:`pipeline.feeds.schedule`: each feed's adaptive poll interval.
- :mod:`pipeline.feeds.reader`: the poll rounds, the seen URLs, the records produced.
"""
