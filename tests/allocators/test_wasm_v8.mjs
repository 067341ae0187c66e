// test_wasm_v8.mjs: the real module (build/heaplab-alloc.min.wasm) in V8, through its
// two guest surfaces as a wasm runtime calls them: seed 001 traps when a call fails
// (nothing changed), seed 004 returns 0 or its error codes. Run by test_wasm_module.py
// (`node tests/allocators/test_wasm_v8.mjs MODULE`); prints "N passed, M failed".
import { readFileSync } from "node:fs";

const bytes = readFileSync(process.argv[2]);
const { instance } = await WebAssembly.instantiate(bytes, {});
const x = instance.exports;
let passed = 0, failed = 0;
function check(what, ok) {
    if (ok) passed++;
    else { failed++; console.log(`FAIL ${what}`); }
}
function traps(f) {
    try { f(); return false; } catch (e) { return e instanceof WebAssembly.RuntimeError && /unreachable/.test(e.message); }
}
const u32 = (v) => v >>> 0;

check("the heap base is 1024", x.__heap_base.value === 1024);
const pages = x.memory.buffer.byteLength / 65536;

// seed 004
const a = u32(x.__alloc(100, 64));
check("__alloc: a 64-aligned block above the heap base", a >= 1024 && a % 64 === 0);
check("__free: length mismatch is 2", x.__free(a, 99) === 2);
check("__free: an interior pointer is invalid (1)", x.__free(a + 16, 100) === 1);
check("__free: ok is 0", x.__free(a, 100) === 0);
check("__free: double free is 3", x.__free(a, 100) === 3);
check("__free: null is a no-op", x.__free(0, 5) === 0);
check("__alloc: an align that is no power of two is 0", x.__alloc(8, 3) === 0);
check("__alloc: memory exhausted is 0, memory not grown", x.__alloc(0xfffff000, 16) === 0 &&
      x.memory.buffer.byteLength / 65536 === pages);

// seed 001
const b = u32(x.alloc(10));
new Uint8Array(x.memory.buffer, b, 10).set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
check("alloc: 16-aligned", b % 16 === 0);
check("alloc: out of memory traps", traps(() => x.alloc(0xfffff000)));
check("the trap changed nothing", x["heaplab-live-blocks"]() === 1 && x["heaplab-live-bytes"]() === 10);
const c = u32(x.realloc(b, 10, 100000));
check("realloc keeps the prefix", new Uint8Array(x.memory.buffer, c, 10).every((v, i) => v === i + 1));
check("realloc: a wrong old size traps", traps(() => x.realloc(c, 7, 20)));
check("realloc: out of memory traps, the block intact", traps(() => x.realloc(c, 100000, 0xfffff000)) &&
      x["heaplab-size"](c) === 100000);
const s = x["enter-scope"]();
const d = u32(x.alloc(32));
const e = u32(x.alloc(48));
new Uint8Array(x.memory.buffer, e, 4).set([7, 7, 7, 7]);
const kept = u32(x.promote(s, e, 4));
check("promote keeps the block and its prefix", kept === e && x["heaplab-size"](kept) === 4 &&
      new Uint8Array(x.memory.buffer, kept, 4).every((v) => v === 7));
check("the scope's other block is gone", x["heaplab-usable"](d) === 0);
check("exit-scope of a closed scope traps", traps(() => x["exit-scope"](s)));
check("mem-copy out of the memory traps", traps(() => x["mem-copy"](x.memory.buffer.byteLength - 2, 1024, 4)));
x["mem-copy"](kept, c, 4);
check("mem-copy copies", new Uint8Array(x.memory.buffer, kept, 4).every((v, i) => v === i + 1));
x["free-all"]();
check("free-all frees every block", x["heaplab-live-blocks"]() === 0 && x["heaplab-usable"](c) === 0);
check("after free-all, the first block is where the first was", u32(x.__alloc(100, 64)) === a);

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
