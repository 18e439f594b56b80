"""Reading a file a line at a time: the checks of every line, never the file held whole."""

from __future__ import annotations

import io

import pytest

from curation.transfer.formats import parse_file, parse_path
from curation.transfer.importing import import_catalogue
from curation.transfer.limits import FileRefused, Limits, LineSource


class Recording(io.BytesIO):
    """A stream that remembers the most bytes it was asked for at once."""

    largest = 0

    def readline(self, size=-1):
        Recording.largest = max(Recording.largest, size)
        return super().readline(size)

    def read(self, size=-1):
        Recording.largest = max(Recording.largest, size)
        return super().read(size)


def test_a_giant_line_is_refused_having_read_at_most_a_lines_worth():
    data = b"url\n" + b"x" * 1_000_000 + b"\n"
    source = LineSource(lambda: Recording(data), Limits(max_line_length=100))

    with pytest.raises(FileRefused, match="line 2 is longer than 100 characters"):
        list(source)
    assert Recording.largest <= 4096  # the format sniffing of the head; lines take less


def test_each_line_is_checked_and_named():
    with pytest.raises(FileRefused, match="line 3: the file is not UTF-8"):
        list(LineSource.from_bytes(b"url\nhttps://a.example.test/\n\xe9\n"))
    with pytest.raises(FileRefused, match="line 2: the file is binary"):
        list(LineSource.from_bytes(b"url\nhttps://a.example.test/\x00\n"))


def test_a_byte_order_mark_is_dropped_and_line_endings_kept():
    lines = list(LineSource.from_bytes(b"\xef\xbb\xbfurl,title\r\nhttps://a.example.test/,A\r\n"))

    assert lines == ["url,title\r\n", "https://a.example.test/,A\r\n"]


@pytest.mark.django_db
def test_a_csv_read_from_disk_imports_as_the_same_bytes_uploaded(tmp_path):
    content = (
        "\ufeffurl,title,curator_note\r\n"
        'https://a.example.test/,A,"two\r\nlines"\r\n'
        "https://b.example.test/,B,\r\n"
        "not a url,C,\r\n"
    ).encode()
    path = tmp_path / "list.csv"
    path.write_bytes(content)

    from_disk = import_catalogue(parse_path(path), dry_run=True)
    uploaded = import_catalogue(parse_file(content, name="list.csv"), dry_run=True)

    assert from_disk.as_dict() == uploaded.as_dict()
    assert [(p.line, p.column) for p in from_disk.errors] == [(5, 1)]
    assert from_disk.created == {"resource": 2}
