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


# The shared options (cli/options.c), with the commands that take each.
SHARED = {
    "--backends LIST": ["replay", "diff", "fuzz", "shrink", "report"],
    "--check-every N": ["replay", "diff", "fuzz", "shrink"],
    "--timeout SECONDS": ["replay", "diff", "fuzz", "shrink"],
    "-q, --quiet": ["replay", "fuzz", "shrink", "report"],
}


def test_shared_options_are_documented_once_and_alike(heaplab):
    """Every command that takes a shared option prints the same lines for it."""
    for option, commands in SHARED.items():
        texts = set()
        for name in commands:
            help_text = heaplab(name, "--help").stdout
            lines = help_text.splitlines()
            at = [i for i, l in enumerate(lines) if l.startswith(f"  {option} ")]
            assert len(at) == 1, (name, option, help_text)
            block = [lines[at[0]]]
            for l in lines[at[0] + 1:]:
                if not l.startswith(" " * 22):
                    break
                block.append(l)
            texts.add("\n".join(block).replace("(default paced)", "").replace("(default 0)", ""))
        assert len(texts) == 1, (option, texts)


def test_shared_options_take_the_same_values_everywhere(heaplab, tmp_path):
    # --check-every paced in fuzz and shrink (once only replay and diff took it)
    fuzz = heaplab("fuzz", "--backends", "bins", "--check-every", "paced", "--runs", "3", "--seed", "1", "-q",
                   "--findings", tmp_path / "f")
    assert fuzz.returncode == 0, fuzz.stderr
    trace = tmp_path / "none.trace"
    trace.write_text("heaplab-trace 1\nalloc 1 8\nend\n")
    shrink = heaplab("shrink", "--backends", "bins", "--check-every", "paced", trace)
    assert shrink.returncode == 2 and "shows no finding" in shrink.stderr, shrink.stderr
    # --backend, the alias, in report (once missing there)
    report = heaplab("report", "--backend", "nosuch", "--out", tmp_path / "r", "traces/basic.trace")
    assert report.returncode == 2 and "unknown backend 'nosuch'" in report.stderr, report.stderr
    # the two modes a crash is re-run in (check/deepen.c) run from the command line too
    for mode in ("deep", "untouched"):
        for name in ("replay", "diff"):
            ok = heaplab(name, "--backends", "bins,guard", "--check-every", mode, "traces/basic.trace")
            assert ok.returncode == 0, (mode, name, ok.stderr)
    for name in ["replay", "diff", "fuzz", "shrink"]:
        bad = heaplab(name, "--backends", "bins", "--check-every", "often", "traces/basic.trace")
        assert bad.returncode == 2 and "--check-every 'often' is not a number, `paced`, `deep` or `untouched`" in bad.stderr, name
        bad = heaplab(name, "--backends", "bins", "--timeout", "-1", "traces/basic.trace")
        assert bad.returncode == 2 and "--timeout '-1' is not a positive number of seconds" in bad.stderr, name
