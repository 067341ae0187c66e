"""Keeps the README true: every `$ command` line in it is run here."""
import re
import subprocess

from conftest import ROOT

# Commands that this suite cannot run from inside itself: they are the suite.
NOT_HERE = {
    "make deps && make test",  # the suite itself (CI runs it in a fresh root)
    # a minute of benchmarking on a quiet machine; tests/bench/test_micro.py runs the
    # same target on a small filter
    "make bench-quick",
}


def readme_commands():
    text = (ROOT / "README.md").read_text()
    commands = []
    for line in text.splitlines():
        m = re.match(r"^\$ (.+?)(\s+#.*)?$", line)
        if m:
            commands.append(m.group(1).strip())
    return commands


def test_readme_names_nothing_outside_the_repository():
    """A clone is all a reader has: every path the README names in backquotes that
    looks like a file of the tree exists, and none climbs out of it (the contract is
    allocators/CONTRACT.md, not a file beside the checkout)."""
    text = (ROOT / "README.md").read_text()
    assert "../" not in text
    for name in ("allocators/CONTRACT.md", "allocators/include/heaplab.h"):
        assert f"`{name}`" in text and (ROOT / name).exists()
    contract = (ROOT / "allocators/CONTRACT.md").read_text()
    assert "../" not in contract


def test_readme_starts_with_the_two_commands():
    commands = readme_commands()
    assert commands[:2] == ["make deps && make run", "make deps && make test"]


def test_every_readme_command_runs():
    ran = 0
    for command in readme_commands():
        if command in NOT_HERE:
            continue
        proc = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"README command failed: {command}\n{proc.stdout}\n{proc.stderr}"
        ran += 1
    assert ran >= 9
