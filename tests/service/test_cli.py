"""The `styletrace` CLI on fake models: register, works, match, scan (with resume and
unreadable files), remove, and clear errors for bad invocations."""

import csv
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from indexer.library import Library
from service import cli, cli_common, cli_records
from service.calibration import Calibration
from service.runtime import Runtime, build_runtime, open_library
from service.settings import Settings
from service.signing import Signer
from tests.fakes import PALETTES, HistogramEmbedder, PixelEmbedder, drawing


@pytest.fixture
def gallery(tmp_path: Path) -> Path:
    root = tmp_path / "gallery"
    for ci, creator in enumerate(("alice", "bob")):
        (root / creator / "sub").mkdir(parents=True)
        for i in range(3):
            drawing(100 * ci + i, PALETTES[creator]).save(root / creator / f"w{i}.png")
        drawing(100 * ci + 50, PALETTES[creator]).save(root / creator / "sub" / "deep.png")
    (root / "alice" / "notes.txt").write_text("not an image")
    return root


@pytest.fixture
def run(tmp_path: Path, fake_cal: Calibration, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("STYLETRACE_DATA_DIR", str(tmp_path / "data"))

    def fake_runtime(settings: Settings | None = None) -> Runtime:
        return build_runtime(settings or Settings(), PixelEmbedder(), HistogramEmbedder(), fake_cal)

    def fake_library(settings: Settings | None = None) -> Library:
        return open_library(settings or Settings(), PixelEmbedder(), HistogramEmbedder())

    monkeypatch.setattr(cli_common, "runtime", fake_runtime)
    monkeypatch.setattr(cli_common, "library", fake_library)

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(cli.cli, list(args), input=stdin, catch_exceptions=False)

    yield invoke


def test_register_list_match_remove(run, gallery: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("register", str(gallery))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["registered"] == 8
    assert json.loads(run("register", str(gallery)).output)["unchanged"] == 8  # idempotent
    listed = [json.loads(line) for line in run("works", "list").output.splitlines()]
    assert {w["work_id"] for w in listed} >= {"alice/w0.png", "bob/sub/deep.png"}
    assert {w["creator_id"] for w in listed} == {"alice", "bob"}
    only_bob = run("works", "list", "--creator", "bob").output.splitlines()
    assert len(only_bob) == 4
    assert len(run("works", "list", "--limit", "3").output.splitlines()) == 3
    matched = json.loads(run("match", str(gallery / "bob" / "w1.png")).output)
    assert matched["content"]["matches"][0]["work_id"] == "bob/w1.png"
    assert set(matched) >= {"query", "style", "content", "models"}
    assert json.loads(run("works", "remove", "bob/w1.png").output)["removed"] == "bob/w1.png"
    after = json.loads(run("match", str(gallery / "bob" / "w1.png")).output)
    assert "bob/w1.png" not in [m["work_id"] for m in after["content"]["matches"]]


def test_works_list_shows_every_work_a_page_at_a_time(  # type: ignore[no-untyped-def]
    run, gallery: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was cut at 1,000 works without a word; now it pages through the catalog."""
    assert run("register", str(gallery)).exit_code == 0
    monkeypatch.setattr(cli, "WORKS_PAGE", 3)
    listed = [json.loads(line)["work_id"] for line in run("works", "list").output.splitlines()]
    assert len(listed) == len(set(listed)) == 8
    assert len(run("works", "list", "--limit", "7").output.splitlines()) == 7
    assert len(run("works", "list", "--creator", "bob", "--limit", "9").output.splitlines()) == 4


def test_opt_out_of_everything_and_verify_the_receipt(run, gallery: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("register", str(gallery))
    out = run("works", "remove", "--all-of", "alice")
    assert out.exit_code == 0, out.output
    done = json.loads(out.output)
    assert done["removed"] == 4 and done["creator_id"] == "alice" and done["index"]
    assert run("works", "list", "--creator", "alice").output == ""
    from indexer.errors import CreatorNotFound  # cli.main prints it as one error line, exit 2

    with pytest.raises(CreatorNotFound, match="no creator 'alicee' in the catalog"):
        run("works", "remove", "--all-of", "alicee")
    receipt = tmp_path / "receipt.json"
    receipt.write_text(out.output)
    checked = run("verify", str(receipt))
    report = json.loads(checked.output)
    assert checked.exit_code == 0 and report["ok"]
    # what was verified is shown from the signed body, and who signed is not overclaimed
    # (found by QA: the wrapper's unsigned fields could be edited, and any key id was shown)
    assert report["signed"] == done["receipt"]["body"]
    assert report["not_signed"]["fields"] == ["creator_id", "index", "removed"]
    assert report["signer"]["key_id"] == done["receipt"]["signature"]["key_id"]
    assert report["signer"]["checked_against"].startswith("only the public key the file carries")
    public = tmp_path / "service.pem"
    public.write_text(done["receipt"]["signature"]["public_key"])
    trusted = run("verify", str(receipt), "--public-key", str(public))
    assert trusted.exit_code == 0
    assert json.loads(trusted.output)["signer"]["checked_against"] == "the trusted public key given"
    forger = Signer(Ed25519PrivateKey.generate())  # re-signs an edited body, borrows the key id
    forged = forger.signed(done["receipt"]["body"] | {"creator_id": "mallory"})
    forged["signature"]["key_id"] = done["receipt"]["signature"]["key_id"]
    receipt.write_text(json.dumps(forged))
    refused = run("verify", str(receipt))
    assert refused.exit_code == 1 and "the signature names key" in refused.output
    receipt.write_text(json.dumps(forger.signed(forged["body"])))  # honest about its key
    honest = json.loads(run("verify", str(receipt)).output)
    assert (
        honest["ok"] and honest["signer"]["key_id"] == forger.key_id != report["signer"]["key_id"]
    )
    assert run("verify", str(receipt), "--public-key", str(public)).exit_code == 1
    receipt.write_text(out.output)
    receipt.write_text(out.output.replace("alice/w0.png", "alice/w9.png"))
    tampered = run("verify", str(receipt))
    assert tampered.exit_code == 1 and "does not match" in tampered.output
    assert run("works", "remove").exit_code == 2


def test_register_from_manifest(run, gallery: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    manifest = tmp_path / "works.csv"
    manifest.write_text(
        "creator_id,work_id,path,title,warnings\n"
        f"carol,carol/one.png,{gallery / 'alice' / 'w0.png'},One,hello\n"
        "carol,carol/two.png,gallery/bob/w0.png,Two,\n"
    )
    result = json.loads(run("register", "--manifest", str(manifest)).output)
    assert result["registered"] == 2
    assert result["warnings"] == []  # found by QA: a 'warnings' column read as h, e, l, l, o
    listed = [
        json.loads(line) for line in run("works", "list", "--creator", "carol").output.splitlines()
    ]
    assert {w["work_id"]: w["columns"] for w in listed} == {  # shown, as given
        "carol/one.png": {"title": "One", "warnings": "hello"},
        "carol/two.png": {"title": "Two"},
    }
    assert all(w["warnings"] == [] for w in listed)
    broken = tmp_path / "broken.csv"  # found by QA: errors named only the path, as errno said
    broken.write_text(
        "creator_id,work_id,path\n"
        f"dave,dave/ok.png,{gallery / 'alice' / 'w1.png'}\n"
        f"dave,dave/../etc,{gallery / 'alice' / 'w1.png'}\n"
        "dave,dave/gone.png,gone.png\n"
    )
    report = json.loads(run("register", "--manifest", str(broken)).output)
    assert report["registered"] == 1 and len(report["errors"]) == 2
    by_line = {e["line"]: e for e in report["errors"]}
    assert by_line[3]["work_id"] == "dave/../etc" and "invalid work_id" in by_line[3]["error"]
    assert by_line[4]["error"] == f"there is no file at {tmp_path / 'gone.png'}"

    # found by QA: new columns on the same bytes were dropped without a word
    manifest.write_text(manifest.read_text().replace(",One,", ",One (2024),"))
    again = json.loads(run("register", "--manifest", str(manifest)).output)
    assert again["unchanged"] == 2 and [w["work_id"] for w in again["warnings"]] == [
        "carol/one.png"
    ]
    assert (
        "already registered with other columns, which are kept" in again["warnings"][0]["warning"]
    )
    for text, says in (  # found by QA: the last of two columns won; a row's extra field was lost
        ("creator_id,work_id,path,title,title\n", "column(s) named twice: title"),
        (
            "creator_id,work_id,path\ncarol,carol/x.png,a,b.png\n",
            ":2: 4 fields, but the header names 3",
        ),
    ):
        broken.write_text(text)
        with pytest.raises(ValueError, match=re.escape(says)):  # the CLI's main prints it
            run("register", "--manifest", str(broken))


def test_a_batch_in_which_no_file_decodes_is_reported_not_raised(  # type: ignore[no-untyped-def]
    run, gallery: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad"
    (bad / "dave").mkdir(parents=True)
    (bad / "dave" / "broken.png").write_bytes(b"not an image")
    registered = run("register", str(bad))
    summary = json.loads(registered.output)
    assert (summary["registered"], summary["failed"]) == (0, 1)
    assert registered.exit_code == 1  # a script learns that something failed
    assert "broken.png" in summary["errors"][0]["path"]
    run("register", str(gallery))
    out = tmp_path / "r.jsonl"
    scanned = json.loads(run("scan", str(bad / "dave"), "--out", str(out)).output)
    assert (scanned["scanned"], scanned["errors"]) == (1, 1)
    assert json.loads(out.read_text())["error"]["code"] == "unsupported_image"


def test_an_output_in_a_missing_folder_is_refused_before_any_work(  # type: ignore[no-untyped-def]
    run, gallery: Path, tmp_path: Path
) -> None:
    run("register", str(gallery))
    missing = tmp_path / "nowhere"
    image = str(gallery / "alice" / "w0.png")
    for args in (
        ["scan", str(gallery), "--out", str(missing / "r.jsonl")],
        ["scan", str(gallery), "--out", str(tmp_path / "r.jsonl"), "--csv", str(missing / "r.csv")],
        ["publish", "alice/w0.png", "--out", str(missing / "p.png")],
        ["evidence", image, "--out", str(missing / "e.zip")],
        ["claims", "labels", "--out", str(missing / "l.jsonl")],
    ):
        refused = run(*args)
        assert refused.exit_code == 2 and "is not an existing folder" in refused.output, args
    assert not (tmp_path / "r.jsonl").exists()  # refused before the scan began
    assert "work.publish" not in run("audit", "list").output  # nothing published


def test_manifests_a_spreadsheet_writes_and_ones_that_are_not_manifests(  # type: ignore[no-untyped-def]
    run, gallery: Path, tmp_path: Path
) -> None:
    bom = tmp_path / "bom.csv"  # spreadsheets save UTF-8 with a byte-order mark
    bom.write_bytes(
        b"\xef\xbb\xbfcreator_id,work_id,path\n"
        + f"carol,carol/a.png,{gallery / 'alice' / 'w0.png'}\n".encode()
    )
    assert json.loads(run("register", "--manifest", str(bom)).output)["registered"] == 1
    scan_list = tmp_path / "scan.csv"
    scan_list.write_bytes(b"\xef\xbb\xbfpath\n" + str(gallery / "bob" / "w0.png").encode() + b"\n")
    out = tmp_path / "r.jsonl"
    assert json.loads(run("scan", str(scan_list), "--out", str(out)).output)["scanned"] == 1
    huge = tmp_path / "huge.csv"
    huge.write_text("creator_id,work_id,path\ncarol,carol/b.png," + "x" * 200_000 + "\n")
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"path": "caf\xe9.png"}\n')
    latin_csv = tmp_path / "latin.csv"  # the line that is not UTF-8, not line 1 (found by QA)
    latin_csv.write_bytes(
        b"creator_id,work_id,path\r\n"
        + b"carol,carol/c.png,a.png\r\n" * 900
        + b"carol,carol/d.png,caf\xe9.png\r\n"
    )
    for args, says in (
        (["register", "--manifest", str(huge)], f"{huge}:2: not a readable CSV"),
        (["scan", str(huge), "--out", str(out)], f"{huge}:2: not a readable CSV"),
        (["scan", str(latin), "--out", str(out)], f"{latin}:1: not UTF-8 text"),
        (["register", "--manifest", str(latin_csv)], f"{latin_csv}:902: not UTF-8 text"),
        (["scan", str(latin_csv), "--out", str(out)], f"{latin_csv}:902: not UTF-8 text"),
        (["scan", str(tmp_path / "absent.csv"), "--out", str(out)], "no such folder or manifest"),
    ):
        with pytest.raises(ValueError, match=re.escape(says)):
            run(*args)


def test_a_scan_will_not_append_to_a_file_it_did_not_write(  # type: ignore[no-untyped-def]
    run, gallery: Path, tmp_path: Path
) -> None:
    run("register", str(gallery))
    for text in ("[1, 2]\n", '{"path": "x"}\n', "garbage\n", "notes without a newline"):
        foreign = tmp_path / "notes.txt"
        foreign.write_text(text)
        with pytest.raises(ValueError, match="scan"):
            run("scan", str(gallery / "bob"), "--out", str(foreign))
        assert foreign.read_text() == text  # untouched
    out = tmp_path / "r.jsonl"
    run("scan", str(gallery / "bob"), "--out", str(out))
    whole = out.read_text()
    out.write_text(whole + '{"path": "cut sh')  # a scan stopped mid-line resumes
    resumed = json.loads(run("scan", str(gallery / "bob"), "--out", str(out)).output)
    assert resumed["skipped"] == 4 and out.read_text() == whole


def test_verify_reports_a_file_that_is_not_a_receipt(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    signature = {"alg": "Ed25519", "key_id": "k", "public_key": 7, "value": 7}
    for doc in ([1], None, {"receipt": "x"}, {"body": {}, "signature": signature}):
        path = tmp_path / "receipt.json"
        path.write_text(json.dumps(doc))
        checked = run("verify", str(path))
        assert checked.exit_code == 1 and json.loads(checked.output)["problems"], doc


def test_the_same_image_under_a_second_id_is_reported_not_registered(  # type: ignore[no-untyped-def]
    run, gallery: Path, tmp_path: Path
) -> None:
    run("register", str(gallery))
    manifest = tmp_path / "again.csv"
    manifest.write_text(
        f"creator_id,work_id,path\nalice,alice/again.png,{gallery / 'alice' / 'w1.png'}\n"
    )
    summary = json.loads(run("register", "--manifest", str(manifest)).output)
    assert (summary["registered"], summary["unchanged"]) == (0, 1)
    assert summary["warnings"] == [
        {
            "work_id": "alice/again.png",
            "warning": "the same image is registered as alice/w1.png; not registered again",
        }
    ]


def test_a_conflict_inside_a_batch_refuses_only_that_work(
    run,
    gallery: Path,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    run("register", str(gallery))
    manifest = tmp_path / "more.csv"
    manifest.write_text(
        "creator_id,work_id,path\n"
        f"erin,erin/a.png,{gallery / 'alice' / 'w1.png'}\n"
        f"alice,alice/w0.png,{gallery / 'bob' / 'w0.png'}\n"
        f"erin,erin/b.png,{gallery / 'bob' / 'w2.png'}\n"
    )
    summary = json.loads(run("register", "--manifest", str(manifest)).output)
    assert (summary["registered"], summary["unchanged"], summary["failed"]) == (2, 0, 1)
    assert "different bytes" in summary["errors"][0]["error"]
    assert len(run("works", "list", "--creator", "erin").output.splitlines()) == 2


def test_scan_writes_one_line_per_image_and_resumes(
    run,
    gallery: Path,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    run("register", str(gallery))
    suspects = tmp_path / "suspects"
    suspects.mkdir()
    for i in range(5):
        drawing(7000 + i, PALETTES["alice"]).save(suspects / f"s{i}.png")
    (suspects / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    for other in ("s0.txt", "s1.txt", "phone.HEIC", "README"):  # left out, and said so
        (suspects / other).write_text("not an image")
    out = tmp_path / "r.jsonl"
    first = json.loads(run("scan", str(suspects), "--out", str(out)).output)
    assert {k: first[k] for k in ("scanned", "skipped", "errors", "not_images", "summary")} == {
        "scanned": 6,
        "skipped": 0,
        "errors": 1,
        "not_images": {"(no suffix)": 1, ".heic": 1, ".txt": 2},
        "summary": f"{out}.summary.json",
    }
    assert json.loads(Path(first["summary"]).read_text())["run"]["not_images"][".txt"] == 2
    assert first["images_per_second"] > 0
    stages = json.loads(Path(first["summary"]).read_text())["run"]["stage_seconds"]
    assert {"decode", "search", "scoring", "write"} <= set(stages)  # where the time went
    assert any(name.startswith("model:") for name in stages)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 6 and all("path" in line for line in lines)
    broken = next(line for line in lines if line["path"].endswith("broken.png"))
    assert broken["error"]["code"] == "unsupported_image"
    assert all("style" in line for line in lines if "error" not in line)
    with out.open("a") as fh:  # a crash mid-write leaves half a line behind
        fh.write('{"path": "half')
    keep = out.read_text().splitlines()[:3]
    out.write_text("\n".join(keep) + '\n{"path": "cut')
    table = tmp_path / "r.csv"
    second = json.loads(run("scan", str(suspects), "--out", str(out), "--csv", str(table)).output)
    assert {k: second[k] for k in ("scanned", "skipped", "errors")} == {
        "scanned": 3,
        "skipped": 3,
        "errors": 0,
    }  # broken.png was kept
    paths = [json.loads(line)["path"] for line in out.read_text().splitlines()]
    assert len(paths) == len(set(paths)) == 6
    report = json.loads(Path(second["summary"]).read_text())
    assert report["images"] == 6 and sum(report["content_verdicts"].values()) == 5
    assert report["errors"]["unsupported_image"]["count"] == 1
    assert "broken.png" in report["errors"]["unsupported_image"]["examples"][0]
    rows = table.read_text().splitlines()
    assert len(rows) == 7 and rows[0].startswith("path,content_verdict")
    matched = [r for r in csv.DictReader(rows) if r["content_calibrated"]]
    assert matched and all(  # the bound on measured counts alone never claims more
        float(r["content_calibrated"]) <= float(r["content_upper"]) <= 1 for r in matched
    )


def test_scan_resumes_whichever_way_the_folder_is_named_and_escapes_odd_names(  # type: ignore[no-untyped-def]
    run, gallery: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`scan DIR`, `scan $PWD/DIR` and `cd DIR; scan .` each scanned everything again into one
    output (resume compared path strings); a file name that is not UTF-8 broke --csv."""
    run("register", str(gallery))
    suspects = tmp_path / "suspects"
    suspects.mkdir()
    drawing(7000, PALETTES["alice"]).save(suspects / "s0.png")
    with open(os.path.join(os.fsencode(suspects), b"bad\xff name.png"), "wb") as fh:
        fh.write((gallery / "alice" / "w0.png").read_bytes())
    monkeypatch.chdir(tmp_path)
    out, table = tmp_path / "r.jsonl", tmp_path / "r.csv"
    first = json.loads(run("scan", "suspects", "--out", str(out), "--csv", str(table)).output)
    assert first["scanned"] == 2
    again = json.loads(run("scan", str(suspects), "--out", str(out)).output)
    (tmp_path / "link").symlink_to(suspects)
    linked = json.loads(run("scan", str(tmp_path / "link"), "--out", str(out)).output)
    monkeypatch.chdir(suspects)
    inside = json.loads(run("scan", ".", "--out", str(out)).output)
    assert (again["scanned"], linked["scanned"], inside["scanned"]) == (0, 0, 0)
    assert inside["skipped"] == 2  # this run's inputs found in the output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(line["path"] for line in lines) == [
        "suspects/bad\\xff name.png",
        "suspects/s0.png",
    ]
    rows = list(csv.DictReader(table.read_text().splitlines()))
    assert sorted(r["path"] for r in rows) == ["suspects/bad\\xff name.png", "suspects/s0.png"]
    odd = next(r for r in rows if "xff" in r["path"])
    assert odd["content_work_id"] == "alice/w0.png"


def test_a_name_holding_an_escape_is_not_taken_for_the_byte_it_spells(  # type: ignore[no-untyped-def]
    run, gallery: Path, tmp_path: Path
) -> None:
    """A file literally named `bad\\xff.png` beside one whose name holds the byte 0xFF: both
    read `bad\\xff.png` to a person, and resume took one for the other (found by QA)."""
    run("register", str(gallery))
    folder = tmp_path / "odd"
    folder.mkdir()
    with open(os.path.join(os.fsencode(folder), b"bad\xff.png"), "wb") as fh:
        fh.write((gallery / "alice" / "w0.png").read_bytes())
    out = tmp_path / "r.jsonl"
    assert json.loads(run("scan", str(folder), "--out", str(out)).output)["scanned"] == 1
    (folder / "bad\\xff.png").write_bytes((gallery / "bob" / "w0.png").read_bytes())
    again = json.loads(run("scan", str(folder), "--out", str(out)).output)
    assert (again["scanned"], again["skipped"]) == (1, 1)
    real = {json.loads(line)["real_path"] for line in out.read_text().splitlines()}
    assert len(real) == 2


def test_an_image_that_cannot_be_matched_is_its_own_error_line(  # type: ignore[no-untyped-def]
    run, gallery: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by QA: one image whose match raised (a work's terms that could not be read)
    ended the scan with nothing written; its batch's other images are kept now."""
    from service.matching import Matcher

    run("register", str(gallery))
    original = Matcher.match
    cursed = hashlib.sha256((gallery / "bob" / "w1.png").read_bytes()).hexdigest()

    def fragile(self, queries, opts):  # type: ignore[no-untyped-def]
        if any(q.sha256 == cursed for q in queries):
            raise RuntimeError("terms could not be read")
        return original(self, queries, opts)

    monkeypatch.setattr(Matcher, "match", fragile)
    out = tmp_path / "r.jsonl"
    summary = json.loads(run("scan", str(gallery / "bob"), "--out", str(out)).output)
    lines = {Path(line["path"]).name: line for line in map(json.loads, out.open())}
    assert summary["scanned"] == len(lines) == 4 and summary["errors"] == 1
    assert lines["w1.png"]["error"] == {
        "code": "match_failed",
        "message": "matching this image failed: terms could not be read",
    }
    assert all("content" in line for name, line in lines.items() if name != "w1.png")


def test_an_interrupted_scan_says_how_to_go_on(  # type: ignore[no-untyped-def]
    run, gallery: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C printed only "Aborted!"; now it says what is kept and that rerunning resumes."""
    import service.scan

    def stopped(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(service.scan, "run_scan", stopped)
    out = tmp_path / "r.jsonl"
    out.write_text('{"path": "a.png", "error": {"code": "x", "message": "y"}}\n')
    previous = signal.getsignal(signal.SIGINT)
    try:  # the command leaves its Ctrl-C handler in place as it exits
        result = run("scan", str(gallery), "--out", str(out))
    finally:
        signal.signal(signal.SIGINT, previous)
    assert result.exit_code == 130
    assert f"interrupted: 1 images are in {out}; run the same command again" in result.output


SECOND_CTRL_C = """
import os, signal, time
from service.cli_common import interrupt_between
with interrupt_between("stopped at once") as check:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.2)
    print("the batch in hand goes on", flush=True)
    try:
        check(1)
    except KeyboardInterrupt:
        print("stopped between batches", flush=True)
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(10)
    print("not reached")
"""


def test_ctrl_c_stops_a_scan_between_batches_and_a_second_at_once() -> None:
    """Found by QA: a second Ctrl-C while a scan wound down printed a traceback from its
    progress bar (and a first one landing in a finaliser was lost)."""
    done = subprocess.run(
        [sys.executable, "-c", SECOND_CTRL_C],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(cli.__file__).parents[1],
    )
    assert done.returncode == 130, done.stderr
    assert done.stdout == "the batch in hand goes on\nstopped between batches\n"
    assert "Ctrl-C again to stop at once" in done.stderr and "stopped at once" in done.stderr
    assert "Traceback" not in done.stderr, done.stderr


def test_scan_reports_images_over_the_decode_limits_and_goes_on(
    run,
    gallery: Path,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The loader's scan and clock limits are settings the CLI honours: a progressive JPEG
    over STYLETRACE_MAX_JPEG_SCANS is reported with the setting named, and the rest scanned."""
    run("register", str(gallery))
    suspects = tmp_path / "suspects"
    suspects.mkdir()
    drawing(7100, PALETTES["bob"]).save(suspects / "plain.png")
    drawing(7101, PALETTES["bob"]).save(suspects / "progressive.jpg", progressive=True)
    monkeypatch.setenv("STYLETRACE_MAX_JPEG_SCANS", "2")
    out = tmp_path / "r.jsonl"
    assert json.loads(run("scan", str(suspects), "--out", str(out)).output)["errors"] == 1
    lines = {
        Path(line["path"]).name: line for line in map(json.loads, out.read_text().splitlines())
    }
    assert "MAX_JPEG_SCANS" in lines["progressive.jpg"]["error"]["message"]
    assert lines["progressive.jpg"]["error"]["code"] == "image_too_large"  # by reason
    assert "style" in lines["plain.png"]


def test_scan_reads_a_list_on_stdin(run, gallery: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("register", str(gallery))
    out = tmp_path / "r.jsonl"
    listing = f"{gallery / 'alice' / 'w0.png'}\n{gallery / 'bob' / 'w2.png'}\n"
    assert json.loads(run("scan", "-", "--out", str(out), stdin=listing).output)["scanned"] == 2
    again = f"{gallery / 'bob' / 'w1.png'}\n{gallery / 'bob' / '..' / 'bob' / 'w1.png'}\n"
    again += f"{gallery / 'bob' / 'gone.png'}\n{gallery / 'bob' / 'w1.png'}\n"
    second = json.loads(run("scan", "-", "--out", str(out), stdin=again).output)
    assert (second["scanned"], second["skipped"], second["errors"]) == (2, 2, 1)  # each once
    gone = json.loads(out.read_text().splitlines()[-1])
    assert gone["error"]["code"] == "file_not_found", gone  # found by QA: all 'unreadable'


def test_scan_reads_a_jsonl_manifest_relative_to_its_folder(
    run, gallery: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    run("register", str(gallery))
    manifest = gallery / "batch.jsonl"
    manifest.write_text('{"path": "alice/w0.png"}\n\n{"path": "%s"}\n' % (gallery / "bob/w1.png"))
    out = tmp_path / "r.jsonl"
    assert json.loads(run("scan", str(manifest), "--out", str(out)).output)["errors"] == 0
    assert [json.loads(line)["path"] for line in out.read_text().splitlines()] == [
        str(gallery / "alice/w0.png"),
        str(gallery / "bob/w1.png"),
    ]
    for empty, text in (("none.jsonl", "\n"), ("none.csv", "path\n")):  # found by QA: exit 0
        (tmp_path / empty).write_text(text)
        with pytest.raises(ValueError, match="the manifest lists no paths"):  # as over HTTP
            run("scan", str(tmp_path / empty), "--out", str(tmp_path / "e.jsonl"))


def test_bad_invocations_fail_with_a_message(run, gallery: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    both = run("register", str(gallery), "--manifest", str(tmp_path / "nope.csv"))
    assert both.exit_code == 2
    neither = run("register")
    assert neither.exit_code == 2 and "DIRECTORY or --manifest" in neither.output
    missing = run("match", str(tmp_path / "missing.png"))
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_demo_registers_the_gallery_and_prints_curl_lines(
    run,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    import uvicorn

    from service.api import tracing

    served: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(kw))
    monkeypatch.setattr(tracing, "configure_logging", lambda level: served.append({"log": level}))
    examples = Path(__file__).resolve().parents[2] / "examples"
    monkeypatch.setenv("STYLETRACE_EXAMPLES_DIR", str(examples))
    result = run("demo", "--port", "8123")
    assert result.exit_code == 0, result.output
    assert '"registered": 30' in result.output
    curls = [line for line in result.output.splitlines() if line.strip().startswith("curl")]
    assert len(curls) == 8 and all("Authorization: Bearer" in c for c in curls)
    key = curls[0].split("Authorization: Bearer ")[1].split("'")[0]
    assert f"Web page: http://127.0.0.1:8123/  (sign in with the API key {key})" in result.output
    # JSON log lines, and the app's access lines instead of uvicorn's (which quote query strings)
    assert served == [
        {"log": "INFO"},
        {"host": "127.0.0.1", "port": 8123, "log_config": None, "access_log": False},
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["works", "remove", "nobody/nothing.png"], "no registered work"),
        (["match", "{img}", "--top-k", "5000"], "top_k must be between 1 and 100"),
        (["scan", "{csv}", "--out", "{out}"], "missing column(s) path"),
        (["scan", "{jsonl}", "--out", "{out}"], "bad.jsonl:2: each line must be a JSON object"),
        (["register", "--manifest", "{csv}"], "missing column"),
        (["keys", "create", "--role", "platform", "--creator", "al"], "only a creator key"),
        (["keys", "revoke", "nokey"], "no API key with id 'nokey'"),
        (["terms", "set", "../x", "--policy", "track"], "invalid creator_id"),
        (["terms", "show", "../x"], "invalid creator_id"),
        (["works", "list", "--creator", "../x"], "invalid creator_id"),
        (["claims", "list", "--creator", "a b"], "invalid creator_id"),
        (["keys", "list", "--creator", "../x"], "invalid creator_id"),
    ],
)
def test_main_turns_domain_errors_into_one_line_and_exit_2(
    run,
    gallery: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("file,creator\nx.png,alice\n")
    bad_jsonl = tmp_path / "bad.jsonl"
    bad_jsonl.write_text('{"path": "x.png"}\n["x.png"]\n')
    values = {
        "img": str(gallery / "alice" / "w0.png"),
        "csv": str(bad_csv),
        "jsonl": str(bad_jsonl),
        "out": str(tmp_path / "o.jsonl"),
    }
    monkeypatch.setattr("sys.argv", ["styletrace", *(a.format(**values) for a in argv)])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_keys_terms_and_audit(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = json.loads(run("keys", "create", "--role", "creator", "--creator", "alice").output)
    with pytest.raises(ValueError, match="U\\+202E"):  # as over HTTP
        run("keys", "create", "--role", "reviewer", "--label", "a\u202eb")
    assert made["key"].startswith("st_") and made["role"] == "creator"
    listed = [json.loads(line) for line in run("keys", "list").output.splitlines()]
    assert [k["key_id"] for k in listed] == [made["key_id"]] and "key" not in listed[0]
    revoked = run("keys", "revoke", made["key_id"])  # the key's record, as the API answers
    assert revoked.exit_code == 0 and json.loads(revoked.output)["revoked_at"].endswith("Z")
    assert json.loads(run("keys", "list").output)["revoked_at"]

    bad = run("terms", "set", "alice", "--policy", "revshare")
    assert bad.exit_code == 2 and "revshare_rate" in bad.output
    for args in (["--policy", "track", "--rate", "0.1"], ["--policy", "revshare", "--rate", "nan"]):
        dropped = run("terms", "set", "alice", *args)  # the rate was dropped without a word
        assert dropped.exit_code == 2 and "--rate takes a share" in dropped.output
    bidi = run("terms", "set", "alice", "--licence", "CC \u202e BY")
    assert (
        bidi.exit_code == 2 and "invalid terms: licence: holds the character U+202E" in bidi.output
    )
    run("terms", "set", "alice", "--policy", "revshare", "--rate", "0.3", "--credit", "A.")
    changed = json.loads(run("terms", "set", "alice", "--training").output)
    assert (changed["policy"], changed["revshare_rate"], changed["training_allowed"]) == (
        "revshare",
        0.3,
        True,
    )
    assert json.loads(run("terms", "show", "bob").output)["policy"] == "track"

    check = json.loads(run("audit", "verify").output)
    assert check["ok"] and check["entries"] == 4
    actions = [json.loads(line)["action"] for line in run("audit", "list").output.splitlines()]
    assert actions == ["key.create", "key.revoke", "terms.creator", "terms.creator"]
    monkeypatch.setattr(cli_records, "AUDIT_PAGE", 3)  # it stopped at 100 without a word
    walked = [json.loads(line)["seq"] for line in run("audit", "list").output.splitlines()]
    assert walked == [1, 2, 3, 4]
    assert len(run("audit", "list", "--limit", "2").output.splitlines()) == 2
    assert [
        json.loads(x)["seq"] for x in run("audit", "list", "--after", "2").output.splitlines()
    ] == [3, 4]
    import sqlite3

    with sqlite3.connect(tmp_path / "data" / "catalog.sqlite") as db:
        db.execute("UPDATE audit SET actor = 'someone' WHERE seq = 2")
    broken = run("audit", "verify")
    assert broken.exit_code == 1 and "entry 2 was altered" in broken.output


def test_a_rematch_that_could_check_nothing_says_so(  # type: ignore[no-untyped-def]
    run, gallery: Path, tmp_path: Path
) -> None:
    """Found by QA: with every listed work removed, `ok` read as if the scores had held."""
    run("register", str(gallery))
    packet = tmp_path / "evidence.zip"
    assert run("evidence", str(gallery / "alice" / "w0.png"), "--out", str(packet)).exit_code == 0
    assert "note" not in json.loads(run("verify", str(packet), "--rematch").output)["rematch"]
    for line in run("works", "list").output.splitlines():
        run("works", "remove", json.loads(line)["work_id"])
    rematch = json.loads(run("verify", str(packet), "--rematch").output)["rematch"]
    assert rematch["rechecked"] == 0 and rematch["removed_since"]
    assert rematch["note"].startswith("every work the packet lists has been removed since")


def test_claim_evidence_verify_and_labels(  # type: ignore[no-untyped-def]
    run, gallery: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("register", str(gallery))
    filed = run(
        "claim", str(gallery / "alice" / "w0.png"), "--kind", "takedown", "--creator", "alice"
    )
    assert filed.exit_code == 0, filed.output
    claim = json.loads(filed.output)
    assert claim["status"] == "open" and claim["matched"][0]["work_id"] == "alice/w0.png"
    filed_packet = tmp_path / "filed.zip"
    fetched = run("claims", "evidence", claim["claim_id"], "--out", str(filed_packet))
    assert json.loads(fetched.output)["sha256"] == claim["packet_sha256"]
    assert hashlib.sha256(filed_packet.read_bytes()).hexdigest() == claim["packet_sha256"]
    verified = json.loads(run("verify", str(filed_packet)).output)
    assert verified["ok"] and verified["context"]["creator_id"] == "alice"  # signed facts
    assert verified["signer"]["checked_against"].startswith("only the public key the file")
    from indexer.claims import ClaimConflict
    from service.claims import InvalidReason

    with pytest.raises(ClaimConflict, match=claim["claim_id"]):  # not filed twice
        run("claim", str(gallery / "alice" / "w0.png"), "--kind", "takedown", "--creator", "alice")
    with pytest.raises(InvalidReason, match="empty"):
        run("claims", "act", claim["claim_id"], "dispute", "--reason", " ")
    packet = tmp_path / "evidence.zip"
    assert run("evidence", str(gallery / "alice" / "w0.png"), "--out", str(packet)).exit_code == 0
    checked = run("verify", str(packet), "--rematch")
    report = json.loads(checked.output)
    assert checked.exit_code == 0 and report["ok"] and report["rematch"]["same_snapshot"]
    assert report["rematch"]["rechecked"] >= 1 and report["rematch"]["removed_since"] == []
    elsewhere = tmp_path / "elsewhere"  # found by QA: made a catalog there, called all removed
    monkeypatch.setenv("STYLETRACE_DATA_DIR", str(elsewhere))
    with pytest.raises(ValueError, match="there is none at"):
        run("verify", str(packet), "--rematch")
    assert not elsewhere.exists()
    monkeypatch.setenv("STYLETRACE_DATA_DIR", str(tmp_path / "data"))
    service_key = tmp_path / "service.pem"
    service_key.write_text(run("signing-key").output)
    assert run("verify", str(packet), "--public-key", str(service_key)).exit_code == 0
    other_key = tmp_path / "other.pem"
    other_key.write_text(Signer.load_or_create(tmp_path / "other-private.pem").public_key)
    refused = run("verify", str(packet), "--public-key", str(other_key))
    assert refused.exit_code == 1 and "another key" in refused.output
    private = tmp_path / "other-private.pem"  # a wrong file is named as such, not the packet
    with pytest.raises(ValueError, match=r"other-private\.pem holds a private key"):
        run("verify", str(packet), "--public-key", str(private))
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    curve = tmp_path / "ec.pem"
    curve.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError, match=r"ec\.pem holds a public key of another kind"):
        run("verify", str(packet), "--public-key", str(curve))
    packet.write_bytes(packet.read_bytes()[:-30])
    assert run("verify", str(packet)).exit_code == 1
    with pytest.raises(ClaimConflict, match="dispute window is still open"):
        run("claims", "act", claim["claim_id"], "uphold", "--reason", "copy")
    disputed = run("claims", "act", claim["claim_id"], "dispute", "--reason", "original")
    assert json.loads(disputed.output)["status"] == "disputed"
    run("claims", "act", claim["claim_id"], "uphold", "--reason", "same drawing")
    listed = [json.loads(line) for line in run("claims", "list").output.splitlines()]
    assert [c["status"] for c in listed] == ["upheld"]
    run("claim", str(gallery / "alice" / "w0.png"), "--kind", "takedown", "--creator", "alice")
    run("claim", str(gallery / "alice" / "w1.png"), "--kind", "takedown", "--creator", "alice")
    monkeypatch.setattr(cli_records, "CLAIMS_PAGE", 2)  # read two at a time, every one shown
    walked = [json.loads(line)["claim_id"] for line in run("claims", "list").output.splitlines()]
    assert len(walked) == len(set(walked)) == 3 and walked[-1] == claim["claim_id"]
    labels = tmp_path / "labels.jsonl"
    assert json.loads(run("claims", "labels", "--out", str(labels)).output)["labels"] >= 1
    row = json.loads(labels.read_text().splitlines()[0])
    assert row["label"] is True and row["work_id"] == "alice/w0.png"


def test_cli_records_are_the_apis_records_with_zoned_timestamps(  # type: ignore[no-untyped-def]
    run, gallery: Path
) -> None:
    """Works, claims, keys, audit entries and removals print as the HTTP API answers them
    (the CLI once dropped fields, named the opt-out count `removed_count` and left the zone
    off timestamps)."""
    from service.records import ClaimOut, EntryOut, KeyOut, OptedOut, Removed
    from service.schemas import WorkOut

    run("register", str(gallery))
    run("claim", str(gallery / "alice" / "w0.png"), "--kind", "takedown", "--creator", "alice")
    run("keys", "create", "--role", "reviewer", "--label", "desk")
    printed = {
        WorkOut: run("works", "list").output,
        ClaimOut: run("claims", "list").output,
        KeyOut: run("keys", "list").output,
        EntryOut: run("audit", "list").output,
        Removed: run("works", "remove", "bob/w1.png").output,
        OptedOut: run("works", "remove", "--all-of", "alice").output,
    }
    stamps = re.compile(r'"(registered_at|created_at|dispute_until|at)":"([^"]+)"')
    for model, output in printed.items():
        lines = output.splitlines()
        assert lines, model.__name__
        for line in lines:
            record = json.loads(line)
            assert set(record) == set(model.model_fields) - {"created"}, model.__name__
            model.model_validate(record)
            for _, stamp in stamps.findall(line):
                assert re.search(r"(Z|[+-]\d\d:\d\d)$", stamp), (model.__name__, stamp)


def test_register_reports_ownership_conflicts(run, gallery: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("register", str(gallery))
    manifest = tmp_path / "works.csv"
    manifest.write_text(
        f"creator_id,work_id,path\ncarol,carol/mine.png,{gallery / 'bob' / 'w1.png'}\n"
    )
    summary = json.loads(run("register", "--manifest", str(manifest)).output)
    assert summary["registered"] == 1
    assert summary["warnings"] == [
        {
            "work_id": "carol/mine.png",
            "warning": "ownership conflict: the same bytes already registered by creator 'bob' "
            "as 'bob/w1.png'",
        }
    ]
    entries = [
        json.loads(line) for line in run("audit", "list", "--limit", "100").output.splitlines()
    ]
    assert {e["actor"] for e in entries if e["action"] == "work.register"} == {"cli"}


def test_publish_writes_the_copy_and_names_what_it_skipped(  # type: ignore[no-untyped-def]
    run, gallery: Path, tmp_path: Path
) -> None:
    assert run("register", str(gallery)).exit_code == 0
    out = tmp_path / "copy.png"
    result = run("publish", "alice/w0.png", "--out", str(out))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["work_id"], summary["payload_id"], summary["media_type"]) == (
        "alice/w0.png",
        0,
        "image/png",
    )
    assert [s["field"] for s in summary["skipped"]] == ["watermark"]  # 96 px: too small
    assert Image.open(out).text["Author"] == "alice"
    missing = CliRunner().invoke(cli.cli, ["publish", "alice/nope.png", "--out", str(out)])
    assert missing.exit_code != 0


def test_a_port_out_of_range_is_a_usage_error(run) -> None:  # type: ignore[no-untyped-def]
    """Found by QA: `serve --port 99999` was an OverflowError traceback."""
    for command in ("serve", "demo"):
        refused = run(command, "--port", "99999")
        assert refused.exit_code == 2 and "99999 is not in the range" in refused.output


def test_a_setting_that_does_not_read_is_named_by_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by QA: STYLETRACE_DISPUTE_WINDOW_DAYS=abc printed pydantic's dump, which names
    the field but not the variable to fix."""
    from pydantic import ValidationError

    from service.settings import settings_problems

    monkeypatch.setenv("STYLETRACE_DISPUTE_WINDOW_DAYS", "abc")
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings_problems(raised.value) == (
        "STYLETRACE_DISPUTE_WINDOW_DAYS: Input should be a valid number, unable to parse "
        "string as a number (given 'abc')"
    )
