"""validate's cost grows linearly with what a trace holds: a million nested scopes take
at most 15 times what a hundred thousand take (issue 20's gate; a lookup that scans the
open scopes makes it about 100 times). A ratio of two runs of one binary, not seconds,
so a loaded machine slows both alike."""
import subprocess
import time

from conftest import ROOT


def nested_scopes(path, n):
    """N scopes, each inside the one before, a block in each, closed innermost first."""
    with open(path, "w") as f:
        f.write("heaplab-trace 1\n")
        f.writelines(f"scope_enter {i}\nalloc {i} 16\n" for i in range(1, n + 1))
        f.writelines(f"scope_exit {i}\n" for i in range(n, 0, -1))
        f.write("end\n")
    return path


def best_time(binary, trace, runs):
    best = None
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run([str(binary.path), "validate", str(trace)], cwd=ROOT, capture_output=True, text=True,
                              timeout=300)
        elapsed = time.perf_counter() - start
        assert proc.returncode == 0 and "ok (" in proc.stdout, proc.stdout + proc.stderr
        best = elapsed if best is None else min(best, elapsed)
    return best


def test_validate_time_grows_linearly_with_scope_nesting(heaplab_release, tmp_path):
    small = best_time(heaplab_release, nested_scopes(tmp_path / "e5.trace", 100_000), runs=3)
    large = best_time(heaplab_release, nested_scopes(tmp_path / "e6.trace", 1_000_000), runs=2)
    assert large <= 15 * small, f"10^6 nested scopes took {large:.2f} s, 10^5 took {small:.2f} s: {large / small:.1f}x"
