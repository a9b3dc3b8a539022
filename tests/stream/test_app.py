"""The worker's Faust app: its stream buffer follows the settings; its consumer after Faust
seeks back to the committed offsets: stream partitions the group never committed go back to
their beginning, nothing else moves."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from aiokafka.structs import TopicPartition
from faust.types import TP

from pipeline.settings import Settings
from pipeline.stream.app import rewind_uncommitted, stream_buffer_size


class Thread:
    def __init__(self) -> None:
        self.rewound: list[TopicPartition] = []

    async def seek_to_beginning(self, *partitions: TopicPartition) -> None:
        self.rewound.extend(partitions)


def test_only_never_committed_stream_partitions_are_rewound_changelogs_never() -> None:
    raw0, raw1 = TP("raw", 0), TP("raw", 1)
    changelog = TP("app-dedup-changelog", 0)
    thread = Thread()
    consumer = SimpleNamespace(
        app=SimpleNamespace(
            topics=[SimpleNamespace(topics=("raw",)), SimpleNamespace(topics=(changelog.topic,))],
            tables=SimpleNamespace(changelog_topics={changelog.topic}),
        ),
        assignment=lambda: {raw0, raw1, changelog},
        _committed_offset={raw0: 12},
        _read_offset={raw0: 12, raw1: 3},
        _thread=thread,
    )
    asyncio.run(rewind_uncommitted(consumer))
    assert thread.rewound == [TopicPartition("raw", 1)]
    assert isinstance(thread.rewound[0], TopicPartition)  # what aiokafka accepts
    assert consumer._read_offset == {raw0: 12, raw1: None}  # Faust will not drop offset 0..3


def test_nothing_is_sought_when_every_stream_partition_was_committed() -> None:
    thread = Thread()
    consumer = SimpleNamespace(
        app=SimpleNamespace(
            topics=[SimpleNamespace(topics=("raw",))],
            tables=SimpleNamespace(changelog_topics=set()),
        ),
        assignment=lambda: {TP("raw", 0)},
        _committed_offset={TP("raw", 0): 1},
        _read_offset={},
        _thread=thread,
    )
    asyncio.run(rewind_uncommitted(consumer))
    assert thread.rewound == []


def test_the_stream_buffer_holds_four_batches_or_what_the_settings_say() -> None:
    assert stream_buffer_size(Settings(batch_size=32)) == 128
    assert stream_buffer_size(Settings(batch_size=1)) == 16
    assert stream_buffer_size(Settings(batch_size=32, stream_buffer_size=8)) == 8
