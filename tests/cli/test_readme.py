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


def readme_commands(with_status=False):
    """Each `$ command` line; with_status, (command, the exit statuses it may end with):
    {0}, or {N} where the line ends in a `# exit N` comment (vet's FAIL is 1, by design),
    or {N, M} for `# exit N or M`: a speed verdict, which a busy machine can turn
    either way (2, bad input or nothing paired, is still a failure there)."""
    text = (ROOT / "README.md").read_text()
    commands = []
    for line in text.splitlines():
        m = re.match(r"^\$ (.+?)(\s+#.*)?$", line)
        if m:
            status = re.search(r"#\s*exit (\d+)(?: or (\d+))?", m.group(2) or "")
            statuses = {int(s) for s in status.groups() if s is not None} if status else {0}
            command = m.group(1).strip()
            commands.append((command, statuses) if with_status else command)
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
    for command, status in readme_commands(with_status=True):
        if command in NOT_HERE:
            continue
        proc = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert proc.returncode in status, f"README command ended {proc.returncode}, not {status}: {command}\n" \
                                          f"{proc.stdout}\n{proc.stderr}"
        ran += 1
    assert ran >= 9
