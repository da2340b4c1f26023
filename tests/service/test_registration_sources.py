"""Which files a gallery folder registers (service/registration.py): the image formats the
loader opens (any case), under a creator's folder, and nothing hidden."""

from __future__ import annotations

from pathlib import Path

from service.registration import from_directory


def test_a_folder_registers_every_image_format_under_a_creator(tmp_path: Path) -> None:
    names = [
        "alice/a.png", "alice/b.WEBP", "alice/c.gif", "alice/sub/d.jpeg", "bob/e.tiff",
        "loose.png", "alice/notes.txt", "alice/vector.svg", "alice/f.avif", ".git/x.png",
        "alice/.cache/y.png",
    ]  # fmt: skip
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    found = [(s.creator_id, s.work_id) for s in from_directory(tmp_path)]
    assert found == [
        ("alice", "alice/a.png"),
        ("alice", "alice/b.WEBP"),
        ("alice", "alice/c.gif"),
        ("alice", "alice/sub/d.jpeg"),
        ("bob", "bob/e.tiff"),
    ]


def test_columns_without_a_name_keep_their_values_by_place() -> None:
    """Found by QA: with two unnamed header columns, the second's value replaced the first's."""
    from service.registration import csv_rows

    text = ["creator_id,work_id,path,,\n", "a,a/x,x.png,KEEP1,KEEP2\n"]
    [(line, row)] = csv_rows(text, {"creator_id", "work_id", "path"}, str)
    assert line == 2 and (row["column 4"], row["column 5"]) == ("KEEP1", "KEEP2")
