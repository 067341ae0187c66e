"""The wasm backend's core is freestanding: it compiles for wasm32 with clang and no
libc (`-nostdlib -ffreestanding`), warning-free under the project's warnings, into a
wasm object; it links into a module with nothing left undefined (no memcpy, no
memset, no libc at all); it includes only stddef, stdint and stdbool; and it stays
small, since the backend is measured in bytes."""
import re
import subprocess

from conftest import ROOT

CORE = ROOT / "allocators" / "wasm" / "wasm_core.c"
WARN = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wstrict-prototypes", "-Wmissing-prototypes"]
SIZE_BUDGET = 8192  # bytes of the linked -Os module, every function exported


def clang_wasm32(tmp_path, opt, out, *defines):
    return subprocess.run(["clang", "--target=wasm32", "-nostdlib", "-ffreestanding", opt, *WARN, *defines, "-c",
                           str(CORE), "-o", str(tmp_path / out)], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_core_compiles_for_wasm32_without_libc(tmp_path):
    proc = clang_wasm32(tmp_path, "-O2", "wasm_core.o")
    assert proc.returncode == 0, proc.stderr
    assert "warning:" not in proc.stderr
    assert (tmp_path / "wasm_core.o").read_bytes()[:4] == b"\0asm"
    # the flat variant a real module uses (offset i is address i)
    proc = clang_wasm32(tmp_path, "-O2", "flat.o", "-DHLWC_FLAT")
    assert proc.returncode == 0 and "warning:" not in proc.stderr, proc.stderr
    assert (tmp_path / "flat.o").read_bytes()[:4] == b"\0asm"


def test_core_links_with_nothing_undefined_and_stays_small(tmp_path):
    assert clang_wasm32(tmp_path, "-Os", "core.o").returncode == 0
    # wasm-ld refuses undefined symbols: a libc call the compiler slipped in fails here
    proc = subprocess.run(["wasm-ld", "--no-entry", "--export-all", "-o", str(tmp_path / "core.wasm"),
                           str(tmp_path / "core.o")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    module = (tmp_path / "core.wasm").read_bytes()
    assert module[:4] == b"\0asm"
    for name in (b"hlwc_init", b"hlwc_alloc", b"hlwc_free", b"hlwc_realloc", b"hlwc_promote", b"hlwc_check"):
        assert name in module, name
    assert len(module) <= SIZE_BUDGET, f"the core grew to {len(module)} bytes (budget {SIZE_BUDGET})"


def test_core_includes_only_freestanding_headers():
    for path in (CORE, CORE.with_suffix(".h")):
        includes = re.findall(r'^\s*#\s*include\s*([<"][^>"]+[>"])', path.read_text(), re.M)
        assert set(includes) <= {'"wasm_core.h"', "<stddef.h>", "<stdint.h>", "<stdbool.h>"}, (path, includes)
