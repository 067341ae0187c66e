"""The CLI as a user meets it: help, list, usage errors and exit codes."""
import pytest

COMMANDS = ["list", "replay", "validate", "convert"]


def test_top_level_help_lists_every_command(heaplab):
    proc = heaplab("--help")
    assert proc.returncode == 0
    for name in COMMANDS:
        assert f"  {name} " in proc.stdout


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_has_help(heaplab, name):
    proc = heaplab(name, "--help")
    assert proc.returncode == 0
    assert proc.stdout.startswith(f"usage: heaplab {name}")


def test_no_command_is_usage(heaplab):
    proc = heaplab()
    assert proc.returncode == 2
    assert "usage: heaplab" in proc.stderr


def test_unknown_command(heaplab):
    proc = heaplab("replya")
    assert proc.returncode == 2
    assert "unknown command 'replya'" in proc.stderr


def test_list_shows_backends_and_what_they_declare(heaplab):
    proc = heaplab("list")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("bins ")
    assert "\nlibc " in proc.stdout and "foreign" in proc.stdout
    bins = proc.stdout.split("\nlibc ")[0]
    assert "detects: INVALID_POINTER DOUBLE_FREE LAYOUT_MISMATCH" in bins
    assert "option source=" in bins
    assert "mutant" not in proc.stdout  # test-only backends stay out of the product


def test_test_build_lists_its_test_backends(heaplab_test):
    proc = heaplab_test("list")
    assert proc.returncode == 0
    for name in ("mutant-live-handout", "crasher", "hanger", "rotter"):
        assert f"\n{name} " in proc.stdout
    assert "[test build only]" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["replay", "traces"], "--backends LIST is required"),
    (["replay", "--backends", "bins"], "no trace or directory given"),
    (["replay", "--frobnicate", "--backends", "bins", "traces"], "unknown or incomplete option '--frobnicate'"),
    (["replay", "--backends"], "unknown or incomplete option '--backends'"),
    (["replay", "--timeout", "soon", "--backends", "bins", "traces"], "--timeout 'soon'"),
    (["replay", "--check-every", "x", "--backends", "bins", "traces"], "--check-every 'x'"),
    (["validate"], "no trace or directory given"),
    (["validate", "--strict", "traces"], "unknown option '--strict'"),
    (["convert", "a"], "needs INPUT and OUTPUT"),
    (["convert", "--to", "yaml", "a", "b"], "--to 'yaml'"),
    (["list", "extra"], "unexpected argument 'extra'"),
])
def test_usage_errors_exit_2_with_a_message(heaplab, args, message):
    proc = heaplab(*args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert proc.stdout == ""


def test_version(heaplab):
    proc = heaplab("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("heaplab ")
