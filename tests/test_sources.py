"""Reading articles from files, directories and stdin."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from pipeline.sources import chunks, read_sources, split_records


def test_a_json_array_is_one_record_per_element() -> None:
    records = list(split_records(b'[{"title": "a"}, {"title": "b"}]', origin="x.json"))
    assert [orjson.loads(r.value) for r in records] == [{"title": "a"}, {"title": "b"}]


def test_a_json_lines_file_is_one_record_per_non_empty_line() -> None:
    records = list(split_records(b'{"a": 1}\n\n{"b": 2}\n', origin="feed.jsonl"))
    assert [r.value for r in records] == [b'{"a": 1}', b'{"b": 2}']


def test_stdin_json_lines_are_detected_by_content() -> None:
    records = list(split_records(b'{"a": 1}\n{"b": 2}\n', origin="<stdin>"))
    assert len(records) == 2


def test_a_json_object_text_or_broken_json_stays_whole() -> None:
    for data in (b'{"title": "a"}', b"# Title\n\nBody", b'[{"title": "unclosed"'):
        (record,) = split_records(data, origin="x.md")
        assert record.value == data


def test_a_directory_yields_its_article_files_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_bytes(b"# B")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.html").write_bytes(b"<p>C</p>")
    (tmp_path / "a.json").write_bytes(b'[{"t": 1}, {"t": 2}]')
    (tmp_path / "notes.bin").write_bytes(b"\x00")
    records = list(read_sources([str(tmp_path)]))
    assert [Path(r.origin or "").name for r in records] == ["a.json", "a.json", "b.md", "c.html"]


def test_a_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        list(read_sources([str(tmp_path / "absent.json")]))


def test_chunks_split_records_into_lists_of_at_most_size() -> None:
    records = list(split_records(b"[1, 2, 3, 4, 5]", origin="x.json"))
    assert [len(chunk) for chunk in chunks(records, 2)] == [2, 2, 1]
    assert [r.value for chunk in chunks(records, 2) for r in chunk] == [r.value for r in records]


def test_an_empty_array_stays_one_record_so_that_it_gets_an_outcome() -> None:
    (record,) = split_records(b" [ ] ", origin="none.json")
    assert record.value == b" [ ] "
