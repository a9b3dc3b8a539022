"""Where watch rules come from: the rule file (``MEDIAMON_WATCH_FILE``) and the watch topic
(``MEDIAMON_TOPIC_WATCH``, compacted: key = rule id, value = the rule's JSON, no value = removed).

The topic is read as every compacted topic of Mediamon is (``pipeline.transport.compacted``:
without a consumer group, every partition from the beginning), so that every reader (each
worker, ``mediamon watch list``) sees every rule; ``mediamon watch add`` and ``remove`` write it
with kafka-python's producer."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import orjson

from pipeline.models import WatchRule
from pipeline.rules.watch import WatchRules, parse_rules
from pipeline.settings import Settings
from pipeline.transport.client import push
from pipeline.transport.compacted import file_items, read_whole

log = logging.getLogger(__name__)


def file_rules(settings: Settings) -> list[WatchRule]:
    """The valid rules of ``MEDIAMON_WATCH_FILE``. Every problem is logged (a bad rule is left
    out, an unreadable file gives no rules): a bad rule never stops a worker."""
    return file_items(settings.watch_file, parse_rules, "watch")


def read_rules(settings: Settings) -> WatchRules:
    """The rules as a worker with these settings applies them: the file's and the watch
    topic's, read to its end."""
    rules = WatchRules(file_rules(settings))
    read_whole(settings, settings.topic_watch, rules.apply)
    return rules


def add_rules(settings: Settings, rules: Sequence[WatchRule]) -> None:
    """Publish ``rules`` to the watch topic (replacing any of the same id) and wait until the
    broker has acknowledged each."""
    values = [orjson.dumps(rule.model_dump(mode="json", exclude_defaults=True)) for rule in rules]
    push(settings, values, settings.topic_watch, keys=[rule.id.encode() for rule in rules])


def remove_rules(settings: Settings, rule_ids: Sequence[str]) -> None:
    """Publish a tombstone for each of ``rule_ids`` to the watch topic."""
    keys = [rule_id.encode() for rule_id in rule_ids]
    push(settings, [None] * len(keys), settings.topic_watch, keys=keys)
