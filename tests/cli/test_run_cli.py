"""`heaplab run` as a user types it: bad usage is exit 2 with a message before the
program starts, the program's own status is told apart from heaplab's findings."""
import pytest


@pytest.mark.parametrize("args,message", [
    (["--", "true"], "--backend SPEC is required"),
    (["--backend", "bins"], "no program to run"),
    (["--backend", "nosuch", "--", "true"], "nosuch"),
    (["--backend", "refs", "--", "true"], "names 6 backends; run serves a program from one"),
    (["--backend", "libc", "--", "true"], "libc is the program's own malloc"),
    (["--backend", "bins:bogus=1", "--", "true"], "bogus"),
    (["--backend", "bins", "--on-limit", "maybe", "--", "true"], "--on-limit 'maybe': expected stop or null"),
    (["--backend", "bins", "--check-every", "deep", "--", "true"], "--check-every 'deep' is not a number or `paced`"),
    (["--backend", "bins", "--frobnicate", "--", "true"], "unknown or incomplete option '--frobnicate'"),
    (["--backend", "bins", "--", "/nonexistent/program"], "cannot run /nonexistent/program"),
    (["--backend", "bins", "--record", "/", "--", "true"], "cannot write"),
])
def test_bad_usage_is_exit_2_with_a_message(heaplab, args, message):
    proc = heaplab("run", *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr


def test_help(heaplab):
    proc = heaplab("run", "--help")
    assert proc.returncode == 0 and "usage: heaplab run --backend SPEC" in proc.stdout
    assert "--on-limit stop|null" in proc.stdout and "exit status:" in proc.stdout
    assert "run " in heaplab("--help").stdout


def test_the_program_s_status_and_signals(heaplab):
    proc = heaplab("run", "--backend", "bins", "--", "sh", "-c", "exit 3")
    assert proc.returncode == 1 and "sh on bins exited with status 3" in proc.stderr, proc.stderr
    proc = heaplab("run", "--backend", "bins", "--", "sh", "-c", "kill -TERM $$")
    assert proc.returncode == 1 and "died of signal 15" in proc.stderr, proc.stderr
    proc = heaplab("run", "-q", "--backend", "bins", "--", "sh", "-c", "echo hi >&2")
    assert proc.returncode == 0 and proc.stderr == "hi\n"  # the program's stderr is its own


def test_a_static_program_is_not_served_and_heaplab_says_so(heaplab, tmp_path):
    static = tmp_path / "static"
    import subprocess
    if subprocess.run(["gcc", "-static", "-O1", "-o", static, "tests/data/run/misdeeds.c"],
                      capture_output=True).returncode != 0:
        pytest.skip("no static C library here")
    proc = heaplab("run", "--backend", "bins", "--", static, "clean")
    assert proc.returncode == 0, proc.stderr
    assert f"the shim was not loaded into {static} (a static or setuid program?): nothing was served" in proc.stderr
