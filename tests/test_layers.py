"""The house's rule: arrows point down the folder table only (README "Layout").

Every #include "..." in a layer's sources must name a header of its own folder or of
a layer below it, and each layer's include path in the Makefile must name no folder
above it. Also: no header over ~300 lines except the contract header, and the old
catch-all header is gone."""
import re

from conftest import ROOT

# bottom to top; a folder may include its own headers and those of lower ranks
RANK = {
    "allocators/include": 0,
    "allocators/source": 1,
    "allocators/kit": 2,
    "allocators": 3, "allocators/wasm": 3, "allocators/wasm/guest": 3, "allocators/foreign": 3,
    # wasm2c's C of the real modules (make wasm), which allocators/wasm/wasm_module.c links
    "build/wasm2c": 3,
    "core": 4,
    "trace": 5, "trace/import": 5,
    "record": 5,
    "run": 6,
    "measure": 7,
    "check": 8,
    "fuzz": 9, "fuzz/drivers": 9, "fuzz/mutants": 9,
    "shim": 9,
    "cli": 10,
    # the micro-benchmarks: over the contract tables and the registry, nothing above
    "bench": 11, "bench/micro": 11,
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_of(path):
    rel = path.relative_to(ROOT).parent.as_posix()
    return rel


def sources():
    for folder in RANK:
        if folder.startswith("build/"):
            continue  # generated (wasm2c): its includes are wabt's, not a layer's
        for pattern in ("*.[ch]", "*.cc"):  # .cc: the micro-benchmarks' shim
            for path in sorted((ROOT / folder).glob(pattern)):
                yield path


def resolve(including, name):
    """Where the included file lives: beside the includer, else the one file of that
    relative path under a layer folder."""
    beside = including.parent / name
    if beside.exists():
        return beside
    found = [ROOT / folder / name for folder in RANK if (ROOT / folder / name).exists()]
    assert len(found) == 1, f"{including.relative_to(ROOT)}: #include \"{name}\" resolves to {found}"
    return found[0]


def upward(path, text):
    """The includes of text (the contents of path) that name a layer above path's:
    (count checked, list of violations)."""
    mine, wrong = RANK[folder_of(path)], []
    names = INCLUDE.findall(text)
    for name in names:
        target = resolve(path, name)
        if RANK[folder_of(target)] > mine:
            wrong.append(f"{path.relative_to(ROOT)} includes {target.relative_to(ROOT)}")
    return len(names), wrong


def test_every_include_points_down_the_table():
    wrong, checked = [], 0
    for path in sources():
        n, bad = upward(path, path.read_text())
        checked += n
        wrong += bad
    assert checked > 100
    assert not wrong, "includes of a layer above:\n" + "\n".join(wrong)


def include_paths():
    """INC_<layer> of the Makefile, expanded: layer -> the folders of its -I flags."""
    text = (ROOT / "Makefile").read_text()
    raw = dict(re.findall(r"^INC_(\w+)\s*:=\s*(.*)$", text, re.M))

    def expand(value):
        return re.sub(r"\$\(INC_(\w+)\)", lambda m: expand(raw[m.group(1)]), value)
    return {layer: re.findall(r"-I(\S+)", expand(value)) for layer, value in raw.items()}


def test_each_layers_include_path_names_no_folder_above_it():
    paths = include_paths()
    checked = 0
    for layer, folders in paths.items():
        if layer not in RANK:
            continue  # tests, examples, the contract alias
        for folder in folders:
            checked += 1
            assert RANK[folder] <= RANK[layer], f"INC_{layer} names {folder}, a layer above it"
    assert checked > 20


def test_the_rule_catches_an_upward_include():
    """The check sees a trace file that includes the run layer's header, and the
    shadow model including the executor's is fine."""
    trace = ROOT / "trace" / "trace_check.c"
    _, wrong = upward(trace, trace.read_text() + '\n#include "hl_run.h"\n')
    assert wrong == ["trace/trace_check.c includes run/hl_run.h"]
    shadow = ROOT / "check" / "shadow.c"
    assert upward(shadow, '#include "hl_run.h"\n') == (1, [])


def test_headers_stay_short_and_the_catch_all_is_gone():
    assert not (ROOT / "harness").exists()
    long = []
    for path in sorted(ROOT.glob("**/*.h")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(("build/", ".git/")) or rel == "allocators/include/heaplab.h":
            continue
        lines = path.read_text().count("\n")
        if lines > 300:
            long.append(f"{rel}: {lines} lines")
    assert not long, long
