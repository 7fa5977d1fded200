"""Output files of the commands: a regular file is replaced atomically, anything else is
written through (a FIFO stays a FIFO, a symlink stays a symlink), permissions follow the umask."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ledger.cli.output import write_output
from ledger.errors import InputError

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "demo-shipments.json"


def _read_fifo_in_thread(fifo: Path) -> tuple[threading.Thread, list[bytes]]:
    received: list[bytes] = []

    def read() -> None:
        with fifo.open("rb") as handle:
            received.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader, received


def test_footprint_output_to_a_fifo_is_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader, received = _read_fifo_in_thread(fifo)
    done = subprocess.run([sys.executable, "-m", "ledger.cli.main", "footprint", str(EXAMPLE),
                           "-o", str(fifo)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False)
    reader.join(timeout=30)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO is not replaced by a file"
    document = json.loads(received[0])
    assert document["footprints"], "the reader got the footprints"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"], "no temporary file left"


def test_a_symlink_stays_a_symlink_and_its_target_gets_the_content(tmp_path: Path) -> None:
    target = tmp_path / "real" / "out.json"
    target.parent.mkdir()
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_output(link, "new\n")
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8") == "new\n"


def test_a_new_file_gets_the_umask_permissions(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        write_output(tmp_path / "sub" / "new.csv", b"a,b\n")
    finally:
        os.umask(previous)
    created = tmp_path / "sub" / "new.csv"
    assert created.read_bytes() == b"a,b\n"
    assert stat.S_IMODE(created.stat().st_mode) == 0o640


def test_an_existing_file_is_replaced_and_keeps_its_permissions(tmp_path: Path) -> None:
    existing = tmp_path / "out.json"
    existing.write_text("old, longer content\n", encoding="utf-8")
    existing.chmod(0o604)
    write_output(existing, "new\n")
    assert existing.read_text(encoding="utf-8") == "new\n"
    assert stat.S_IMODE(existing.stat().st_mode) == 0o604
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_a_folder_as_output_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder"):
        write_output(tmp_path, "x")
