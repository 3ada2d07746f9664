"""The default pickle policy: unpickling runs code, so pickles are read only from a
database you created at the place it is opened from, from files that you own and no
one else may write, checked on the very file that is read. A received database, a
copy, an extracted tarball and an archive behave alike."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

import zdb
from zdb.exceptions import PickleRefusedError

pytestmark = pytest.mark.local_files


class Point:
    """A value only pickle stores."""

    def __init__(self, x: int) -> None:
        self.x = x

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and other.x == self.x


def _created_by_someone_else(tmp_path: Path, monkeypatch) -> Path:
    """A database created by another user (another registry): what people receive."""
    with monkeypatch.context() as m:
        m.setenv("ZDB_REGISTRY", str(tmp_path / "their_registry"))
        zdb.DataBase(tmp_path / "theirs")["p"] = Point(1)
    return tmp_path / "theirs"


def test_pickles_of_a_database_you_created_here_are_read(tmp_path):
    zdb.DataBase(tmp_path / "db")["sub", "p"] = Point(1)
    db = zdb.DataBase(tmp_path / "db", readonly=True)
    assert db.created_here and db["sub"].created_here
    assert db["sub", "p"] == Point(1)


def test_a_received_database_is_not_trusted_even_when_its_files_are_yours(tmp_path, monkeypatch):
    theirs = _created_by_someone_else(tmp_path, monkeypatch)
    db = zdb.DataBase(theirs)
    assert not db.created_here
    with pytest.raises(PickleRefusedError, match="'p'.*did not create.*allow_pickle=True"):
        db["p"]
    assert zdb.DataBase(theirs, allow_pickle=True)["p"] == Point(1)


@pytest.mark.parametrize("how", ["copy", "move"])
def test_a_copied_or_moved_database_is_not_trusted(tmp_path, how):
    zdb.DataBase(tmp_path / "db")["p"] = Point(2)
    (shutil.copytree if how == "copy" else shutil.move)(tmp_path / "db", tmp_path / "elsewhere")
    with pytest.raises(PickleRefusedError, match="did not create"):
        zdb.DataBase(tmp_path / "elsewhere")["p"]
    if how == "copy":
        assert zdb.DataBase(tmp_path / "db")["p"] == Point(2)


def test_an_archive_is_trusted_exactly_as_the_database_it_was_exported_from(tmp_path, monkeypatch):
    mine = zdb.DataBase(tmp_path / "mine")
    mine["p"] = Point(3)
    own_zip = zdb.export_zip(mine, tmp_path / "mine.zip")
    assert zdb.DataBase(own_zip)["p"] == Point(3)
    moved_zip = shutil.copy(own_zip, tmp_path / "copy.zip")
    with pytest.raises(PickleRefusedError, match="did not create"):
        zdb.DataBase(moved_zip)["p"]
    theirs = zdb.DataBase(_created_by_someone_else(tmp_path, monkeypatch), allow_pickle=True)
    their_zip = zdb.export_zip(theirs, tmp_path / "theirs.zip")
    with pytest.raises(PickleRefusedError, match="did not create"):
        zdb.DataBase(their_zip)["p"]
    assert zdb.DataBase(their_zip, allow_pickle=True)["p"] == Point(1)


def test_a_pickle_others_may_write_is_refused(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db["p"] = Point(4)
    payload = Path(db.path_of("p")) / "value.pickle"
    payload.chmod(0o666)
    with pytest.raises(PickleRefusedError, match="other users may change"):
        db["p"]
    payload.chmod(0o644)
    assert db["p"] == Point(4)


ATTACKER = textwrap.dedent(
    """
    import os, sys, time
    folder, evil, mine, stop = sys.argv[1:5]
    os.setgid(65534)
    os.setuid(65534)  # nobody: an attacker who may write the shared folder
    target = os.path.join(folder, "value.pickle")
    i = 0
    while not os.path.exists(stop):
        i += 1
        tmp = os.path.join(folder, f"t{i}")
        if i % 2:
            with open(tmp, "wb") as f:
                f.write(open(evil, "rb").read())
        else:
            os.symlink(mine, tmp)  # a file the reader owns, as the old check trusted
        os.replace(tmp, target)
    """
)


class _Evil:
    def __reduce__(self):
        return (exec, ("open(__import__('os').environ['ZDB_PWNED'], 'a').write('x')",))


@pytest.fixture
def shared_folder():
    """A folder every user may enter and write, as a group's shared folder is."""
    folder = Path(tempfile.mkdtemp(prefix="zdb-shared-", dir="/tmp"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the attacker as another user")
def test_swapping_a_pickle_under_a_reader_never_runs_the_attackers_code(shared_folder, monkeypatch):
    pwned = shared_folder / "pwned"
    monkeypatch.setenv("ZDB_PWNED", str(pwned))
    db = zdb.DataBase(shared_folder / "db")
    db["p"] = Point(5)
    folder = Path(db.path_of("p"))
    for p in (shared_folder / "db", shared_folder / "db" / "p", folder):
        p.chmod(0o777)  # a group-writable shared database
    evil = shared_folder / "evil.pickle"
    evil.write_bytes(pickle.dumps(_Evil()))
    evil.chmod(0o644)
    mine = shared_folder / "mine.pickle"  # a pickle the reader owns, e.g. a download
    mine.write_bytes(pickle.dumps(_Evil()))
    stop = shared_folder / "stop"
    attacker = subprocess.Popen(
        [sys.executable, "-c", ATTACKER, str(folder), str(evil), str(mine), str(stop)]
    )
    outcomes: dict[str, int] = {}
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                value = zdb.DataBase(shared_folder / "db")["p"]
                outcome = "read " + type(value).__name__
            except zdb.exceptions.DataBaseException as e:
                outcome = type(e).__name__
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        assert attacker.poll() is None, "the attacker stopped early"
    finally:
        stop.touch()
        attacker.wait(timeout=30)
    assert not pwned.exists(), outcomes
    assert outcomes.get("PickleRefusedError", 0) > 10, outcomes  # the swaps happened
    assert outcomes.get("UnsafePathError", 0) > 10, outcomes
    assert set(outcomes) <= {"read Point", "PickleRefusedError", "UnsafePathError"}, outcomes
