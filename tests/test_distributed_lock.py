"""zdb.distributed_lock against real components: lock files, a redis-server and a
ZooKeeper server, shared between real processes. A server that is not installed skips
its tests, or fails them where $ZDB_REQUIRE_SERVICES is set (as in CI)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from zdb import distributed_lock as dl
from zdb.exceptions import DataBaseException

from . import services

# fork: children start at once and inherit the test's configuration; each then
# chooses its own server connection, since the choice is remembered per process.
FORK = multiprocessing.get_context("fork")
#: generous bound on waits for child processes (never reached when things work)
WAIT = 60


@pytest.fixture(autouse=True)
def isolated_locks(tmp_path, monkeypatch):
    """Lock files under the test's folder, no configuration file, no earlier choice."""
    monkeypatch.setenv(dl.ENV_LOCK_DIR, str(tmp_path / "locks"))
    monkeypatch.delenv(dl.ENV_CONFIG, raising=False)
    monkeypatch.delenv(dl.ENV_ISF_CONFIG, raising=False)
    monkeypatch.delenv(dl.ENV_ISF_BLOCK, raising=False)
    dl.configure(None)
    yield
    dl.configure(None)


@pytest.fixture(scope="session")
def redis_service():
    services.import_client("redis", "redis")
    with services.redis_server() as service:
        yield service


@pytest.fixture(scope="session")
def zookeeper_service():
    services.import_client("kazoo", "zookeeper")
    with services.zookeeper_server() as service:
        yield service


def redis_entry(service, **options):
    options.setdefault("poll_interval", 0.01)
    return {"type": "redis", "config": {"host": service.host, "port": service.port}, **options}


def zookeeper_entry(service, **options):
    config = {"hosts": service.address, "timeout": 2.0}
    return {"type": "zookeeper", "config": config, **options}


@pytest.fixture(params=["file", "redis", "zookeeper"])
def server(request, tmp_path):
    """Each kind of server in turn, configured for this process and its children."""
    if request.param == "file":
        dl.configure([{"type": "file", "config": {"directory": str(tmp_path / "file-locks")}}])
    elif request.param == "redis":
        dl.configure([redis_entry(request.getfixturevalue("redis_service"))])
    else:
        dl.configure([zookeeper_entry(request.getfixturevalue("zookeeper_service"))])
    return request.param


@pytest.fixture
def name():
    """A lock name no other test uses (the servers live for the whole session)."""
    return f"test/{uuid.uuid4().hex}"


def make_lock(kind: str, name: str) -> dl.DistributedLock:
    return {"exclusive": dl.get_lock, "read": dl.get_read_lock, "write": dl.get_write_lock}[kind](
        name
    )


def run(target, *args) -> multiprocessing.Process:
    process = FORK.Process(target=target, args=args)
    process.start()
    return process


def finish(*processes) -> list[int | None]:
    for p in processes:
        p.join(WAIT)
    return [p.exitcode for p in processes]


# ----------------------------------------------------------------- child processes


def increment_many(name: str, counter: str, times: int, worker: int) -> None:
    """Read-modify-write a counter file under the lock; only exclusion keeps it exact."""
    for i in range(times):
        kind = "exclusive" if (worker + i) % 2 else "write"
        with make_lock(kind, name):
            value = int(Path(counter).read_text())
            time.sleep(0.0005)  # widen the window in which an unlocked writer would race
            Path(counter).write_text(str(value + 1))


def hold_read_lock_until_both_hold(name: str, barrier) -> None:
    with dl.get_read_lock(name):
        barrier.wait(WAIT)  # passes only while the other process holds its read lock too


def try_lock(kind: str, name: str, timeout: float) -> None:
    """Exit 0 when the lock was taken within ``timeout``, 3 when not."""
    lock = make_lock(kind, name)
    if not lock.acquire(timeout=timeout):
        sys.exit(3)
    lock.release()


def hold_forever(kind: str, name: str, ready) -> None:
    lock = make_lock(kind, name)  # referenced while held: filelock frees collected locks
    lock.acquire()
    ready.set()
    time.sleep(WAIT * 10)


# -------------------------------------------------------------- mutual exclusion


def test_exclusive_locks_keep_a_shared_counter_exact_across_processes(server, name, tmp_path):
    counter = tmp_path / "counter"
    counter.write_text("0")
    workers, times = 3, 25
    processes = [run(increment_many, name, str(counter), times, w) for w in range(workers)]
    assert finish(*processes) == [0] * workers
    assert int(counter.read_text()) == workers * times


def test_read_locks_are_held_by_two_processes_at_once(server, name):
    barrier = FORK.Barrier(2)
    readers = [run(hold_read_lock_until_both_hold, name, barrier) for _ in range(2)]
    assert finish(*readers) == [0, 0]


@pytest.mark.parametrize("held", ["write", "exclusive"])
def test_a_write_lock_excludes_readers_and_writers_of_other_processes(server, name, held):
    lock = make_lock(held, name)
    with lock:
        assert finish(run(try_lock, "read", name, 0.2)) == [3]
        assert finish(run(try_lock, "write", name, 0.2)) == [3]
        assert finish(run(try_lock, "exclusive", name, 0)) == [3]
    assert finish(run(try_lock, "read", name, WAIT)) == [0]


def test_a_read_lock_excludes_writers_until_released(server, name):
    reader = dl.get_read_lock(name)
    with reader:
        assert finish(run(try_lock, "write", name, 0.2)) == [3]
        assert finish(run(try_lock, "exclusive", name, 0)) == [3]
        assert finish(run(try_lock, "read", name, WAIT)) == [0]
    assert finish(run(try_lock, "write", name, WAIT)) == [0]


def test_lock_objects_of_one_process_exclude_each_other(server, name):
    first, second = dl.get_write_lock(name), dl.get_read_lock(name)
    assert first.acquire(timeout=0)
    assert not second.acquire(timeout=0.1)
    first.release()
    assert second.acquire(timeout=WAIT)
    second.release()


def test_a_lock_object_is_not_reentrant_and_release_needs_a_hold(name):
    lock = dl.get_lock(name)
    with pytest.raises(dl.LockError, match="not held"):
        lock.release()
    with lock:
        assert lock.held
        with pytest.raises(dl.LockError, match="already held"):
            lock.acquire(timeout=0)
    assert not lock.held
    with pytest.raises(dl.LockError, match="timeout"):
        lock.acquire(timeout=-1)


# ------------------------------------------------------------------ dead holders


@pytest.mark.parametrize("kind", ["write", "read"])
def test_a_killed_holder_frees_its_file_lock_at_once(name, kind):
    ready = FORK.Event()
    holder = run(hold_forever, kind, name, ready)
    assert ready.wait(WAIT)
    waiter = dl.get_write_lock(name)
    assert not waiter.acquire(timeout=0)
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(WAIT)
    assert waiter.acquire(timeout=0)
    waiter.release()


@pytest.mark.parametrize("kind", ["write", "read"])
def test_a_killed_holder_frees_its_redis_lock_when_it_expires(redis_service, name, kind):
    dl.configure([redis_entry(redis_service, expire=2.5)])  # 3 renewals of slack
    ready = FORK.Event()
    holder = run(hold_forever, kind, name, ready)
    assert ready.wait(WAIT)
    waiter = dl.get_write_lock(name)
    assert not waiter.acquire(timeout=0)
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(WAIT)
    assert waiter.acquire(timeout=WAIT)
    waiter.release()


def test_a_killed_holder_frees_its_zookeeper_lock_when_its_session_ends(zookeeper_service, name):
    dl.configure([zookeeper_entry(zookeeper_service)])
    ready = FORK.Event()
    holder = run(hold_forever, "write", name, ready)
    assert ready.wait(WAIT)
    waiter = dl.get_lock(name)
    assert not waiter.acquire(timeout=0)
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(WAIT)
    assert waiter.acquire(timeout=WAIT)
    waiter.release()


@pytest.mark.parametrize("kind", ["write", "read"])
def test_a_live_holder_keeps_its_redis_lock_beyond_the_expiry(redis_service, name, kind):
    dl.configure([redis_entry(redis_service, expire=0.9)])
    with make_lock(kind, name):
        time.sleep(2.0)  # more than two expiries: only renewal keeps the lock
        assert not dl.get_write_lock(name).acquire(timeout=0)


@pytest.mark.parametrize("kind", ["write", "read"])
def test_releasing_a_redis_lock_that_vanished_reports_it_lost(redis_service, name, kind):
    dl.configure([redis_entry(redis_service)])
    lock = make_lock(kind, name)
    lock.acquire()
    dl.get_locking_client().delete(f"zdb:lock:{name}", f"zdb:lock-readers:{name}")
    with pytest.raises(dl.LockLostError, match=name):
        lock.release()


def end_zookeeper_session(service, client) -> None:
    """End ``client``'s session as a server would on timeout: another client joins
    the session and closes it, and ``client`` is told its session expired."""
    from kazoo.client import KazooClient

    intruder = KazooClient(hosts=service.address, client_id=client.client_id)
    intruder.start(timeout=WAIT)
    intruder.stop()
    intruder.close()


@pytest.mark.parametrize("kind", ["write", "read"])
def test_releasing_a_zookeeper_lock_whose_session_ended_reports_it_lost(
    zookeeper_service, name, kind
):
    dl.configure([zookeeper_entry(zookeeper_service)])
    lock = make_lock(kind, name)
    lock.acquire()
    end_zookeeper_session(zookeeper_service, dl.get_locking_client())
    deadline = time.monotonic() + WAIT
    while not lock.lost and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(dl.LockLostError, match=name) as error:
        lock.release()
    assert "session" in str(error.value) and "'timeout'" in str(error.value)
    assert "'expire'" not in str(error.value)  # a redis option, not zookeeper's
    with dl.get_write_lock(name) as again:  # the client went on with a new session
        assert again.held


# ------------------------------------------------------- planted lock files


def lock_file_of(name: str, tmp_path: Path) -> Path:
    """The path of ``name``'s lock file in the default lock folder, left absent."""
    with dl.get_lock(name):
        pass
    (path,) = (tmp_path / "locks").iterdir()
    path.unlink()
    return path


@pytest.mark.parametrize("kind", ["read", "write", "exclusive"])
@pytest.mark.parametrize("target_exists", [False, True])
def test_a_lock_file_planted_as_a_symlink_is_refused_and_its_target_untouched(
    name, tmp_path, kind, target_exists
):
    victim = tmp_path / "victim"
    victim.mkdir()
    target = victim / "somefile"
    if target_exists:
        target.write_text("precious")
    path = lock_file_of(name, tmp_path)
    path.symlink_to(target)
    lock = make_lock(kind, name)
    with pytest.raises(dl.UnsafeLockFileError) as error:
        lock.acquire(timeout=0)
    message = str(error.value)
    assert str(path) in message and "symbolic link" in message and "Remove" in message
    assert not lock.held
    if target_exists:
        assert target.read_text() == "precious"
    else:
        assert not target.exists()  # a dangling link must not create its target
    assert list(victim.iterdir()) == ([target] if target_exists else [])
    path.unlink()  # the fix the message names
    with lock:
        assert path.is_file() and not path.is_symlink()


def test_a_symlink_planted_after_the_check_is_not_followed_by_the_exclusive_lock(
    name, tmp_path, monkeypatch
):
    from zdb.locks import file

    target = tmp_path / "somefile"
    path = lock_file_of(name, tmp_path)
    check = file._refuse_unsafe
    calls = []

    def check_then_plant(lock, checked):
        check(lock, checked)  # passes: no lock file yet
        if not calls:
            path.symlink_to(target)  # the race: planted between the check and the open
        calls.append(checked)

    monkeypatch.setattr(file, "_refuse_unsafe", check_then_plant)
    with pytest.raises(dl.UnsafeLockFileError, match="symbolic link"):
        dl.get_write_lock(name).acquire(timeout=0)
    assert not target.exists()


def acquire_exit_code(kind: str, name: str) -> None:
    """Exit 4 when taking the lock raises UnsafeLockFileError, 0 when it is taken."""
    try:
        make_lock(kind, name).acquire(timeout=0)
    except dl.UnsafeLockFileError:
        sys.exit(4)


@pytest.mark.parametrize("kind", ["read", "write"])
@pytest.mark.parametrize("planted", ["fifo", "directory"])
def test_a_lock_file_that_is_not_a_regular_file_is_refused_without_hanging(
    name, tmp_path, kind, planted
):
    path = lock_file_of(name, tmp_path)
    if planted == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    child = run(acquire_exit_code, kind, name)  # a child: an open that hangs is killed
    child.join(10)
    if child.exitcode is None:
        child.kill()
        child.join()
    assert child.exitcode == 4
    with pytest.raises(dl.UnsafeLockFileError, match="not a regular file"):
        make_lock(kind, name).acquire(timeout=0)


@pytest.mark.parametrize("server", ["file", "zookeeper"], indirect=True)
def test_paths_that_are_not_utf8_name_locks_of_their_own(server):
    # os.fsdecode gives undecodable bytes of a file name as lone surrogates
    names = [Path(os.fsdecode(b"/data/caf\xe9")), Path(os.fsdecode(b"/data/caf\xea")), "\ud800"]
    names.append("/data/café")
    locks = [dl.get_write_lock(lock_name) for lock_name in names]
    assert [lock.acquire(timeout=0) for lock in locks] == [True] * len(names)
    assert not dl.get_read_lock(names[0]).acquire(timeout=0)
    for lock in locks:
        lock.release()
    with dl.get_read_lock(names[0]):
        pass


# ------------------------------------------------------------ choice of server


def test_without_configuration_locks_are_files_in_the_lock_folder(tmp_path, name):
    assert dl.get_locking_server()["type"] == "file"
    with dl.get_lock(name):
        pass
    files = list((tmp_path / "locks").iterdir())
    assert len(files) == 1 and files[0].name.startswith("test_")


def test_lock_names_map_to_distinct_safe_file_names(tmp_path):
    names = ["a/b", "a_b", "/gpfs/project/db", "ä b", "..", "x" * 1000]
    for lock_name in names:
        with dl.get_lock(lock_name):
            pass
    files = list((tmp_path / "locks").iterdir())
    assert len(files) == len(names)
    assert all(len(f.name) < 120 and f.parent == tmp_path / "locks" for f in files)


def test_the_first_reachable_server_in_the_list_is_used(redis_service, name):
    closed = {"type": "redis", "config": {"host": "127.0.0.1", "port": services.closed_port()}}
    dl.configure([closed, redis_entry(redis_service), {"type": "file"}])
    assert dl.get_locking_server()["config"]["port"] == redis_service.port
    with dl.get_lock(name) as lock:
        assert lock.server == f"redis {redis_service.address}"
    assert dl.get_locking_client() is dl.get_locking_client()  # chosen once per process


def test_an_unreachable_zookeeper_falls_through_to_the_next_server(name):
    services.import_client("kazoo", "zookeeper")
    zookeeper = {"type": "zookeeper", "config": {"hosts": f"127.0.0.1:{services.closed_port()}"}}
    dl.configure([{**zookeeper, "connect_timeout": 0.5}, {"type": "file"}])
    assert dl.get_locking_server()["type"] == "file"


def test_zookeeper_without_kazoo_installed_falls_through_to_the_next_server(monkeypatch):
    for module in ("kazoo", "kazoo.client", "kazoo.protocol.states"):
        monkeypatch.setitem(sys.modules, module, None)  # makes the import fail
    dl.configure([{"type": "zookeeper", "config": {"hosts": "127.0.0.1:2181"}}, {"type": "file"}])
    assert dl.get_locking_server()["type"] == "file"


def test_no_reachable_server_raises_naming_them_all(monkeypatch):
    monkeypatch.setitem(sys.modules, "kazoo", None)
    monkeypatch.setitem(sys.modules, "kazoo.client", None)
    port = services.closed_port()
    dl.configure(
        [
            {"type": "redis", "config": {"host": "127.0.0.1", "port": port}},
            {"type": "zookeeper", "config": {"hosts": "zk.invalid:2181"}},
        ]
    )
    with pytest.raises(dl.NoLockServerError) as error:
        dl.get_lock("x")
    assert f"redis 127.0.0.1:{port}" in str(error.value)
    assert "zookeeper zk.invalid:2181" in str(error.value)
    assert "zdb[zookeeper]" in str(error.value)


def test_a_forked_child_chooses_its_own_connection(redis_service, name):
    dl.configure([redis_entry(redis_service)])
    with dl.get_lock(name):
        assert finish(run(try_lock, "exclusive", name, 0)) == [3]
    assert finish(run(try_lock, "exclusive", name, 0)) == [0]


# ---------------------------------------------------------------- configuration


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_the_yaml_file_named_by_the_environment_variable_is_used(
    redis_service, tmp_path, monkeypatch
):
    config = write_yaml(
        tmp_path / "locks.yml",
        f"- type: redis\n  config: {{host: 127.0.0.1, port: {services.closed_port()}}}\n"
        f"- type: redis\n  config: {{host: 127.0.0.1, port: {redis_service.port}}}\n"
        "  expire: 30\n"
        "- type: file\n",
    )
    monkeypatch.setenv(dl.ENV_CONFIG, str(config))
    assert dl.get_locking_server() == {
        "type": "redis",
        "config": {"host": "127.0.0.1", "port": redis_service.port},
        "expire": 30,
    }
    # a new interpreter reads the variable too
    code = "from zdb import distributed_lock as d; print(d.get_locking_server()['config']['port'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(redis_service.port)


def test_isf_lock_configuration_variable_is_read_when_zdb_s_is_not_set(
    redis_service, tmp_path, monkeypatch
):
    isf = write_yaml(
        tmp_path / "isf.yml",
        f"- type: redis\n  config: {{host: 127.0.0.1, port: {redis_service.port}}}\n",
    )
    monkeypatch.setenv(dl.ENV_ISF_CONFIG, str(isf))
    server, client = dl.get_locking_server_client()
    assert server["config"]["port"] == redis_service.port and client.ping()
    with dl.get_lock("isf-configured"):
        assert client.exists("zdb:lock:isf-configured")
    dl.configure(None)
    mine = write_yaml(tmp_path / "zdb.yml", f"- type: file\n  config: {{directory: {tmp_path}}}\n")
    monkeypatch.setenv(dl.ENV_CONFIG, str(mine))
    assert dl.get_locking_server_client() == (
        {"type": "file", "config": {"directory": str(tmp_path)}},
        None,
    )


def test_isf_block_variable_turns_locks_off_with_a_clear_error(monkeypatch):
    monkeypatch.setenv(dl.ENV_ISF_BLOCK, "1")
    assert dl.get_locking_server_client() == (None, None)
    for getter in (dl.get_lock, dl.get_read_lock, dl.get_write_lock):
        with pytest.raises(dl.LocksBlockedError, match="ISF_DISTRIBUTED_LOCK_BLOCK"):
            getter("x")
    with pytest.raises(RuntimeError):
        dl.get_lock("x")
    monkeypatch.delenv(dl.ENV_ISF_BLOCK)
    with dl.get_lock("x"):
        pass


def test_configure_from_file_uses_the_listed_servers(tmp_path):
    config = write_yaml(
        tmp_path / "locks.yml", f"- type: file\n  config: {{directory: {tmp_path / 'here'}}}\n"
    )
    dl.configure_from_file(config)
    with dl.get_read_lock("r"):
        pass
    assert len(list((tmp_path / "here").iterdir())) == 1


def test_a_configuration_file_that_does_not_parse_is_named(tmp_path, monkeypatch):
    config = write_yaml(tmp_path / "broken.yml", "- type: redis\n  config: {host: [\n")
    with pytest.raises(dl.LockConfigError, match="broken.yml"):
        dl.configure_from_file(config)
    monkeypatch.setenv(dl.ENV_CONFIG, str(config))
    with pytest.raises(dl.LockConfigError, match=r"broken\.yml.*ZDB_LOCK_CONFIG"):
        dl.get_lock("x")


def test_an_unknown_server_type_names_the_file_and_the_entry(tmp_path):
    config = write_yaml(tmp_path / "locks.yml", "- type: file\n- type: etcd\n  config: {}\n")
    with pytest.raises(dl.LockConfigError) as error:
        dl.configure_from_file(config)
    message = str(error.value)
    assert "locks.yml" in message and "entry 2" in message and "'etcd'" in message


@pytest.mark.parametrize(
    "servers",
    [[], "file", [{"type": "file", "config": {"dir": "x"}}], [{"type": "redis", "expire": 0}]],
)
def test_malformed_server_lists_are_refused(servers):
    with pytest.raises(dl.LockConfigError):
        dl.configure(servers)


@pytest.mark.parametrize("path", ["/zdb/../locks", "/a/./b", ".."])
def test_a_zookeeper_path_with_dot_segments_is_refused_naming_it(path):
    with pytest.raises(dl.LockConfigError, match=r"'path'.*'\.\.?'"):
        dl.configure([{"type": "zookeeper", "path": path}])


def test_client_options_the_client_does_not_know_are_named():
    dl.configure([{"type": "redis", "config": {"hots": "127.0.0.1"}}])
    with pytest.raises(dl.LockConfigError, match="hots"):
        dl.get_lock("x")


@pytest.mark.parametrize("getter", [dl.get_lock, dl.get_read_lock, dl.get_write_lock])
def test_an_empty_lock_name_is_refused(getter):
    with pytest.raises(dl.InvalidLockNameError, match="lock name '' is empty") as error:
        getter("")
    assert isinstance(error.value, DataBaseException)
