"""Shared fixtures: where the binaries are and how to run them as a user would."""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def binary(env_name, default):
    path = Path(os.environ.get(env_name, ROOT / default))
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make test` (it builds everything first)")
    return path


class Heaplab:
    """Runs a heaplab binary with arguments; returns the CompletedProcess."""

    def __init__(self, path):
        self.path = path

    def __call__(self, *args, cwd=None, timeout=300, input=None, env=None):
        return subprocess.run([str(self.path), *map(str, args)], cwd=cwd or ROOT, capture_output=True,
                              text=True, timeout=timeout, input=input, env=env)


@pytest.fixture(scope="session")
def heaplab():
    """The sanitized driver (ASan + UBSan): what the tests exercise by default."""
    return Heaplab(binary("HEAPLAB", "build/asan/heaplab"))


@pytest.fixture(scope="session")
def heaplab_release():
    return Heaplab(binary("HEAPLAB_RELEASE", "build/heaplab"))


@pytest.fixture(scope="session")
def heaplab_test():
    """The driver with the test-only backends (mutant-live-handout, crasher, hanger), sanitized."""
    return Heaplab(binary("HEAPLAB_TEST", "build/asan/heaplab-test"))


@pytest.fixture(scope="session")
def heaplab_test_release():
    """Release build with the test-only backends: signals reach the isolation layer
    unchanged (ASan would turn a SIGSEGV into its own report and exit status)."""
    return Heaplab(binary("HEAPLAB_TEST_RELEASE", "build/release/heaplab-test"))


def built_in_backends():
    """Backends in `all`, in listing order, as the product binary lists them (`heaplab list
    --names`): a backend added to allocators/backends.c is here without another edit."""
    for candidate in ("build/heaplab", "build/asan/heaplab"):
        path = ROOT / candidate
        if path.exists():
            proc = subprocess.run([str(path), "list", "--names"], capture_output=True, text=True, timeout=120)
            if proc.returncode == 0:
                return [line.split()[0] for line in proc.stdout.splitlines() if line.split()[1:] == ["built-in"]]
    return []  # not built yet: the tests that use it fail on an empty list


# Backends in `all`, in listing order.
ALL_BACKENDS = built_in_backends()
# The test backends that end their own process on their 100th call (tests/backends/
# faulty.c), with how heaplab must describe it: a CRASH finding in every command.
PROCESS_ENDERS = [
    ("exiter", "exiter ended its process (exit status 0) before the run was over"),
    ("forker", "forker ended its process (exit status 0) before the run was over"),
    ("stopper", "stopper was stopped by signal 19"),
]
# What the shipped traces find in the peers heaplab loads from Debian: mimalloc 2.0.9's
# mi_malloc_aligned(1024, 256) returns a 128-aligned block (microsoft/mimalloc#700,
# fixed upstream in 2.1); basic.trace asks for exactly that.
PEER_FINDINGS = {("mimalloc", "traces/basic.trace"): "ALIGNMENT"}


def shipped_traces():
    """Every trace `replay traces/` finds: the synthetic ones and the recorded real ones."""
    return sorted((ROOT / "traces").glob("*.trace")) + sorted((ROOT / "traces/real").glob("*.trace.zst"))


def write_trace(path, body, magic="heaplab-trace 1\n", end=True):
    path.write_text(magic + body + ("end\n" if end else ""))
    return path


def mutant_trace(tmp_path):
    """Blocks of one class freed and allocated again: a free list that hands a block
    out twice shows as two live blocks at one address."""
    body = "".join(f"alloc {i} 24\n" for i in range(1, 41))
    body += "".join(f"alloc {100 + i} 300\n" for i in range(10))  # bystanders
    body += "".join(f"free {i}\n" for i in range(1, 41, 2))
    body += "".join(f"alloc {200 + i} 20\n" for i in range(20))
    return write_trace(tmp_path / "reuse.trace", body)


class SmallDisk:
    """A tmpfs mounted for one test: `full(kib)` a folder on a filesystem of KIB KiB (a
    write past it fails with ENOSPC), `read_only()` one mounted read-only. Needs root
    (CI runs as root, ../shared/FACTS.md); where mounting is refused the test is skipped
    with the reason. Everything mounted is unmounted when the test ends."""

    def __init__(self, base):
        self.base = base
        self.mounted = []

    def _mount(self, name, options):
        where = self.base / name
        where.mkdir()
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True,
                              text=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs for a full or read-only disk ({proc.stderr.strip() or 'not root'})")
        self.mounted.append(where)
        return where

    def full(self, kib):
        return self._mount(f"full-{len(self.mounted)}", f"size={kib}k")

    def read_only(self):
        return self._mount(f"ro-{len(self.mounted)}", "ro,size=64k")

    def unmount(self):
        for where in reversed(self.mounted):
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    disk = SmallDisk(tmp_path)
    yield disk
    disk.unmount()
