"""The tree builds warning-free (-Wall -Wextra -Werror) with clang as well as gcc
(`make test` itself builds with gcc). Built in a copy so the gcc objects stay."""
import shutil
import subprocess

from conftest import ROOT


def test_clang_builds_everything_without_warnings(tmp_path):
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    for name in files:
        source = ROOT / name
        if source.is_file():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, tmp_path / name)
    proc = subprocess.run(["make", "-j2", "CC=clang", "build/heaplab", "build/asan/heaplab", "unit",
                           "build/release/heaplab-test"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "warning:" not in proc.stderr
    version = subprocess.run([str(tmp_path / "build" / "heaplab"), "replay", "--json", "--backends", "bins",
                              "traces/basic.trace"], cwd=tmp_path, capture_output=True, text=True)
    assert version.returncode == 0 and '"compiler":\t"clang' in version.stdout
