"""`heaplab report` under faults, end to end: its folder is built beside its final name
and renamed as a whole (cli/cmd_report.c), so a full disk, a read-only one or a failed
render leaves nothing under DIR, no temporary folder, an earlier report there intact,
and a message naming the path and why (exit 2); Ctrl-C (SIGINT) or SIGTERM ends every
child heaplab started (run/isolate.c), and while measuring the pairs measured so far
become a report marked partial (exit 130 / 143), a second signal ending at once with
nothing written. Other commands (replay, diff, fuzz) leave no child behind either."""
import json
import os
import pty
import resource
import select
import signal
import subprocess
import time

import jsonschema
import pytest

from conftest import ROOT

SCHEMA = json.loads((ROOT / "reports" / "schema" / "results.schema.json").read_text())
BASIC = "traces/basic.trace"
SCOPES = "traces/scopes.trace"


def file_limit(kib):
    """A preexec_fn: a file may grow to KIB KiB (a write beyond fails with EFBIG, as a
    full disk's does), inherited by the renderer."""
    def setup():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (kib * 1024, hard))
    return setup


def run(binary, *args, kib=None):
    return subprocess.run([str(binary.path), *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, preexec_fn=file_limit(kib) if kib is not None else None)


def listing(folder):
    """Every path under FOLDER, relative, with each file's bytes: what a failure must not change."""
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


# --- a report folder whole or not at all ----------------------------------------------

@pytest.mark.parametrize("kib, fails_at", [(24, "plots/"), (4, "heaplab-results.json")])
def test_a_report_onto_a_full_disk_leaves_nothing(heaplab_release, small_disk, kib, fails_at):
    """24 KiB hold the results document (5 KB) and results.json but not the plots; 4 KiB
    not even the document."""
    disk = small_disk.full(kib)
    out = disk / "report"
    proc = run(heaplab_release, "report", "-q", "--backends", "bins", "--out", out, BASIC)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "cannot write" in line]
    assert len(lines) == 1 and f"{out}/{fails_at}" in lines[0], proc.stderr
    assert "No space left on device" in lines[0] and "nothing written" in lines[0], lines
    assert "report:" not in proc.stdout
    assert list(disk.iterdir()) == []  # nothing under DIR, no temporary folder


def test_a_report_onto_a_read_only_disk_writes_nothing(heaplab_release, small_disk):
    disk = small_disk.read_only()
    out = disk / "report"
    proc = run(heaplab_release, "report", "-q", "--backends", "bins", "--out", out, BASIC)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"heaplab report: {out}: cannot create " in proc.stderr and "Read-only file system" in proc.stderr
    assert "report:" not in proc.stdout and list(disk.iterdir()) == []


def test_an_earlier_report_stays_intact_when_the_new_one_fails(heaplab_release, small_disk):
    disk = small_disk.full(32)
    out = disk / "report"
    (out / "plots").mkdir(parents=True)
    (out / "heaplab-results.json").write_text('{"an": "earlier document"}\n')
    (out / "index.html").write_text("<p>the earlier report</p>\n")
    (out / "plots" / "relative-speed.png").write_bytes(b"an earlier plot")
    before = listing(disk)
    proc = run(heaplab_release, "report", "-q", "--backends", "bins", "--out", out, BASIC)
    assert proc.returncode == 2 and "No space left on device" in proc.stderr, proc.stdout + proc.stderr
    assert listing(disk) == before  # the earlier document not replaced by the new one, no temporary folder


def test_a_new_report_replaces_an_earlier_one_as_a_whole(heaplab_release, tmp_path):
    out = tmp_path / "report"
    (out / "plots").mkdir(parents=True)
    (out / "index.html").write_text("earlier")
    (out / "plots" / "latency-gone.png").write_bytes(b"a trace no longer reported")
    proc = run(heaplab_release, "report", "-q", "--backends", "bins", "--out", out, BASIC)
    assert proc.returncode == 0 and f"report: {out}/index.html" in proc.stdout, proc.stderr
    assert not (out / "plots" / "latency-gone.png").exists() and (out / "index.html").read_text() != "earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # the earlier one is gone, not set aside


@pytest.fixture(scope="module")
def documents(tmp_path_factory, heaplab_release):
    """A results document and a one-shard document of basic.trace on bins, each in its report."""
    tmp = tmp_path_factory.mktemp("documents")
    for name, extra in (("plain", []), ("shard", ["--shard", "1/1"])):
        proc = run(heaplab_release, "report", "-q", "--backends", "bins", *extra, "--out", tmp / name, BASIC)
        assert proc.returncode == 0, proc.stderr
    return tmp / "plain" / "heaplab-results.json", tmp / "shard" / "heaplab-results.json"


def test_a_folder_that_is_not_a_report_or_holds_an_input_is_refused(heaplab_release, documents, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("not a report")
    proc = run(heaplab_release, "report", "--backends", "bins", "--out", mine, BASIC)
    assert proc.returncode == 2 and f"--out {mine} exists and is not a report" in proc.stderr, proc.stderr
    assert listing(mine) == {"notes.txt": b"not a report"}
    plain, shard = documents
    for route in (["--from", plain], ["--merge", shard], ["--compare", plain, plain]):
        out = route[1].parent
        before = listing(out)
        proc = run(heaplab_release, "report", *route, "--out", out)
        assert proc.returncode == 2 and f"--out {out} would overwrite {route[1]}" in proc.stderr, proc.stderr
        assert listing(out) == before


MICRO = ROOT / "tests" / "data" / "reports" / "bench-micro.json"
ROUTES = {
    "measure": lambda plain, shard: ["--backends", "bins", BASIC],
    "shard": lambda plain, shard: ["--backends", "bins", "--shard", "1/1", BASIC],
    "micro": lambda plain, shard: ["--backends", "bins", "--micro", MICRO, BASIC],
    "from": lambda plain, shard: ["--from", plain],
    "from-micro": lambda plain, shard: ["--from", plain, "--micro", MICRO],
    "merge": lambda plain, shard: ["--merge", shard],
    "compare": lambda plain, shard: ["--compare", plain, plain],
}


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_writes_its_folder_whole_or_not_at_all(heaplab_release, documents, tmp_path, route):
    """Under a 1 KiB file-size limit (the renderer inherits it) the first file of each
    route fails, whichever side writes it: exit 2, the file named under DIR, nothing left."""
    out = tmp_path / "out" / "report"
    proc = run(heaplab_release, "report", "-q", *ROUTES[route](*documents), "--out", out, kib=1)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{out}/" in proc.stderr and "cannot write: File too large" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and "report:" not in proc.stdout
    assert list((tmp_path / "out").iterdir()) == []


# --- Ctrl-C -------------------------------------------------------------------------

def session(leader):
    """The live processes (zombies are dead) of the session LEADER started, but LEADER."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == leader:
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == leader and fields[0] != "Z":
            found.append(f"{entry} {stat[:stat.rindex(')') + 1]}")
    return found


def left_behind(leader):
    """The processes of LEADER's session still alive a second after it ended (then killed)."""
    deadline = time.monotonic() + 1
    while session(leader) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = session(leader)
    for entry in alive:
        try:
            os.kill(int(entry.split()[0]), signal.SIGKILL)
        except ProcessLookupError:
            pass
    return alive


@pytest.fixture
def sessions():
    """The session leaders a test started: whatever of their sessions is still alive when
    it ends is killed (the code before the fix left hung children running for ever)."""
    leaders = []
    yield leaders
    for leader in leaders:
        for entry in session(leader):
            try:
                os.kill(int(entry.split()[0]), signal.SIGKILL)
            except ProcessLookupError:
                pass


class Terminal:
    """A heaplab command in a session of its own with stderr on a terminal (so the report
    shows its progress line), and what it printed there so far. Its stdout goes to a file:
    a child left behind holding a pipe would keep a reader waiting."""

    def __init__(self, binary, tmp_path, sessions, *args):
        self.master, slave = pty.openpty()
        self.stdout = tmp_path / "stdout"
        with open(self.stdout, "w") as stdout:
            self.proc = subprocess.Popen([str(binary.path), *map(str, args)], cwd=ROOT, stdout=stdout,
                                         stderr=slave, start_new_session=True)
        sessions.append(self.proc.pid)
        os.close(slave)
        self.seen = ""

    def _read(self, seconds):
        ready, _, _ = select.select([self.master], [], [], seconds)
        try:
            chunk = os.read(self.master, 4096) if ready else b""
        except OSError:
            chunk = b""
        self.seen += chunk.decode(errors="replace")
        return chunk

    def wait_for(self, text, seconds=30):
        deadline = time.monotonic() + seconds
        while text not in self.seen:
            if not self._read(max(0.0, deadline - time.monotonic())):
                raise AssertionError(f"no {text!r} within {seconds} s: {self.seen[-2000:]}")

    def finish(self, seconds=60):
        """Returns (exit status, stdout, seconds taken), reading the terminal as it goes."""
        start = time.monotonic()
        while self.proc.poll() is None and time.monotonic() - start < seconds:
            self._read(0.05)
        rc = self.proc.wait(timeout=1)
        taken = time.monotonic() - start
        while self._read(0):
            pass
        os.close(self.master)
        return rc, self.stdout.read_text(), taken


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_report_renders_what_was_measured_as_partial(heaplab_test_release, tmp_path, sessions,
                                                                   signum, status):
    """`hanger` never returns from its 50th call (a run of it takes the 10 s timeout): the
    signal comes while it runs, after bins on basic.trace, the first pair, is measured."""
    out = tmp_path / "out" / "report"
    term = Terminal(heaplab_test_release, tmp_path, sessions, "report", "--backends", "bins,hanger", "--out", out,
                    BASIC, SCOPES)
    term.wait_for("[2/4] hanger on traces/basic.trace")
    os.kill(term.proc.pid, signum)
    rc, stdout, taken = term.finish()
    name = signal.Signals(signum).name
    assert rc == status, term.seen + stdout
    assert left_behind(term.proc.pid) == []  # the hung isolated child and the renderer: gone
    assert taken < 30  # not the hang's 10 s timeouts of the three pairs left
    assert f"heaplab report: interrupted by {name}: 1 of 4 pairs measured" in term.seen
    assert f"report: {out}/index.html (partial: 1 of 4 pairs measured, interrupted by {name})" in stdout
    doc = json.loads((out / "heaplab-results.json").read_text())
    jsonschema.validate(doc, SCHEMA)
    assert [(r["trace"], r["backend"]) for r in doc["results"]] == [(BASIC, "bins")]
    assert doc["partial"] == {"reason": f"interrupted by {name}", "not_measured": [
        {"trace": BASIC, "backend": "hanger"}, {"trace": SCOPES, "backend": "bins"},
        {"trace": SCOPES, "backend": "hanger"}]}
    md = (out / "report.md").read_text()
    assert md.startswith("# heaplab report (partial)\n")
    assert (f"Partial report: interrupted by {name} (3 pairs not measured: traces/basic.trace on hanger, "
            "traces/scopes.trace on bins, traces/scopes.trace on hanger)") in md
    html = (out / "index.html").read_text()
    assert "<title>heaplab report (partial)</title>" in html and f"Partial report: interrupted by {name}" in html
    assert json.loads((out / "results.json").read_text())["partial"] == doc["partial"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["report"]  # no temporary folder


def test_a_second_interrupt_ends_at_once_with_nothing_written(heaplab_test_release, tmp_path, sessions):
    out = tmp_path / "out" / "report"
    term = Terminal(heaplab_test_release, tmp_path, sessions, "report", "--backends", "bins,hanger", "--out", out,
                    BASIC, SCOPES)
    term.wait_for("[2/4] hanger on traces/basic.trace")
    os.kill(term.proc.pid, signal.SIGINT)
    term.wait_for("rendering them as a partial report")  # the renderer is starting
    os.kill(term.proc.pid, signal.SIGINT)
    rc, stdout, taken = term.finish()
    assert rc == 130 and taken < 2, term.seen + stdout
    assert f"heaplab: SIGINT: stopped; nothing written to {out}" in term.seen
    assert "report:" not in stdout
    assert left_behind(term.proc.pid) == []  # the renderer too
    assert list(out.parent.iterdir()) == []  # neither DIR nor the temporary folder


def test_an_interrupt_before_any_pair_is_measured_writes_nothing(heaplab_test_release, tmp_path, sessions):
    out = tmp_path / "out" / "report"
    term = Terminal(heaplab_test_release, tmp_path, sessions, "report", "--backends", "hanger,bins", "--out", out,
                    BASIC)
    term.wait_for("[1/2] hanger on traces/basic.trace")
    os.kill(term.proc.pid, signal.SIGINT)
    rc, stdout, _ = term.finish()
    assert rc == 130 and "0 of 2 pairs measured" in term.seen and "nothing to report" in term.seen, term.seen
    assert left_behind(term.proc.pid) == [] and list(out.parent.iterdir()) == []


@pytest.mark.parametrize("command", [
    ["replay", "--backends", "bins,hanger", BASIC],
    ["diff", "--backends", "bins,hanger", SCOPES, "traces/real/perl-words.trace.zst"],
    ["fuzz", "--backends", "bins,hanger", "--jobs", "2", "--seed", "1", "--time", "60", "-q"],
])
@pytest.mark.parametrize("how, status", [("heaplab", 143), ("group", 130), ("kill", -signal.SIGKILL)])
def test_other_commands_leave_no_child_behind(heaplab_test_release, tmp_path, sessions, command, how, status):
    """SIGTERM to heaplab alone (`kill PID`), SIGINT to its process group (a terminal's
    Ctrl-C: fuzz's jobs get it too, the isolated children, in groups of their own, not)
    or SIGKILL to heaplab (the children's PR_SET_PDEATHSIG) while a backend hangs in an
    isolated child."""
    findings = ["--findings", str(tmp_path / "findings")] if command[0] == "fuzz" else []
    with open(tmp_path / "output", "w") as output:  # not a pipe a child left behind would hold open
        proc = subprocess.Popen([str(heaplab_test_release.path), *command, *findings], cwd=ROOT, stdout=output,
                                stderr=output, start_new_session=True)
    sessions.append(proc.pid)
    deadline = time.monotonic() + 30
    while len(session(proc.pid)) < (3 if command[0] == "fuzz" else 1) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    if how == "group":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGTERM if how == "heaplab" else signal.SIGKILL)
    proc.wait(timeout=30)
    output = (tmp_path / "output").read_text()
    assert left_behind(proc.pid) == [], output
    assert proc.returncode == status, output
