// v8_runner.mjs: the `wasm-v8` backend's other half (allocators/wasm/wasm_v8.c). It
// instantiates a heaplab allocator module (build/heaplab-alloc.min.wasm, `make wasm`) in
// Node's V8 and serves heaplab over a pipe: one request in, one answer out, until stdin
// ends. heaplab's own runner: Node's standard library only, no npm package.
//
// usage: node v8_runner.mjs MODULE.wasm
//        node v8_runner.mjs --bench HEAPLAB.wasm DLMALLOC.wasm [--ops N] [--live N] [--rounds N]
//
// The benchmark mode (`make bench-wasm`) runs one random mix on both modules in this
// one V8: LIVE blocks of 1..1024 bytes allocated first (not timed), then OPS calls,
// each pair a free of a random live block and an alloc of a new random size in its
// place. HEAPLAB.wasm is called through seed 004 (`__alloc(len, 1)`, `__free(ptr,
// len)`), DLMALLOC.wasm through `malloc`, `free`. The same loop with the calls replaced
// by a JS function that does nothing is the harness's own cost, printed and not
// subtracted. Rounds alternate the order; the medians are printed, and the median and
// range of the rounds' ratios (each round's pair runs back to back).
//
// The socket to heaplab is fd 3 (Node leaves it alone), blocking: the runner sleeps
// until a request comes (heaplab polls for the answer instead). Should it be made
// non-blocking, the reads and writes below wait it out. Protocol (little-endian u32 words):
//   hello     runner -> heaplab, once: MAGIC, __heap_base, memory pages, 1 for a lean
//             module (seed 004 alone; leanExports below) else 0
//   request   heaplab -> runner: op, a, b, c (OPS below)
//   answer    runner -> heaplab: result, status, pages, live blocks, live bytes,
//             bad block, bad byte, aux 1, aux 2: for `usable` the block's size and
//             align; for alloc, realloc and promote the new block's usable size (so
//             heaplab's next question, usable_size, needs no request)
//   status: 0 returned; 1 trapped with `unreachable` (a seed 001 call that failed);
//   2 trapped otherwise (the module's fault); 3 returned, but a block's bytes were
//   found changed (bad block, bad byte say where).
//
// Contents: heaplab cannot see this memory (it lives in V8), so the runner checks the
// contract's content rules itself. It fills each new block with a pattern drawn from
// its first address, and before a free, a realloc or a promote it verifies the block
// still holds it. After a realloc or a promote it verifies the kept prefix. A block a
// mem-copy wrote into is no longer verified.
import { readFileSync, readSync, writeSync } from "node:fs";

const MAGIC = 0x68387638; // "8v8h"
const SOCKET = 3;
const OPS = ["alloc", "free", "realloc", "usable", "copy", "enter", "exit", "promote", "free_all"];
if (process.argv[2] === "--bench") {
    await bench(process.argv.slice(3));
    process.exit(0);
}
const [modulePath] = process.argv.slice(2);
if (!modulePath) {
    process.stderr.write("usage: node v8_runner.mjs MODULE.wasm\n");
    process.exit(2);
}
let x, lean = false;
try {
    const { module, instance } = await WebAssembly.instantiate(readFileSync(modulePath), {});
    x = instance.exports;
    lean = !("heaplab-free" in x) && "__alloc" in x && "__free" in x;
    if (lean) x = leanExports(module, instance);
} catch (e) {
    process.stderr.write(`${modulePath}: ${e.message}\n`);
    process.exit(2);
}
for (const name of ["__alloc", "heaplab-free", "realloc", "heaplab-usable", "heaplab-size", "heaplab-align",
                    "mem-copy", "enter-scope", "exit-scope", "promote", "free-all", "heaplab-live-blocks",
                    "heaplab-live-bytes", "memory", "__heap_base"]) {
    if (!(name in x)) {
        process.stderr.write(`${modulePath}: the module does not export ${name} (nor is it a lean module: ` +
                             `__alloc, __free)\n`);
        process.exit(2);
    }
}

// A lean module (build/heaplab-alloc-lean.wasm) exports seed 004 alone. The calls it
// lacks are made here as its native twin (`wasm-lean`, wasm_core.c with HLWC_LEAN)
// makes them, reading the chunk headers and the heap state the core keeps in memory:
// realloc is __alloc, copy, __free; usable, size and align come from the header; a
// copy is a forward byte walk inside the memory; scopes fail (as a trap); free-all
// is a fresh instance whose memory is grown to the old size (the core builds its heap
// over the whole memory on the next call, as its free_all does); the live counts are
// kept here.
function leanExports(module, instance) {
    let e = instance.exports, live = 0, liveBytes = 0;
    const no = () => { throw new WebAssembly.RuntimeError("unreachable (the lean module has no such call)"); };
    const words = (at, n) => new Uint32Array(e.memory.buffer, at, n);
    const header = (p) => {   // the header of an in-use chunk whose block starts at p, or null
        const end = e.memory.buffer.byteLength, first = words(e.__heap_base.value, 3)[2];
        if ((p & 15) || p < first + 16 || p > end - 16) return null;
        const h = words(p - 16, 4);
        return h[0] & 1 ? h : null;
    };
    const api = {
        get memory() { return e.memory; },
        get __heap_base() { return e.__heap_base; },
        __alloc(n, align) {
            const p = e.__alloc(n, align) >>> 0;
            if (p) { live++; liveBytes += n; }
            return p;
        },
        __free(p, n) { return api["heaplab-free"](p, n, 0); },
        "heaplab-free"(p, n) {
            if (p) { live--; liveBytes -= words(p - 16, 4)[2]; }
            return e.__free(p, n) >>> 0;
        },
        realloc(p, oldSize, newSize) {
            const q = api.__alloc(newSize, p ? words(p - 16, 4)[3] : 1);
            if (!q) no();
            if (p) {
                new Uint8Array(e.memory.buffer).copyWithin(q, p, p + Math.min(oldSize, newSize));
                api["heaplab-free"](p, oldSize, 0);
            }
            return q;
        },
        "heaplab-usable"(p) { const h = header(p); return h ? (h[0] & ~15) - 16 : 0; },
        "heaplab-size"(p) { const h = header(p); return h ? h[2] : 0; },
        "heaplab-align"(p) { const h = header(p); return h ? h[3] : 0; },
        "mem-copy"(dst, src, n) {
            const end = e.memory.buffer.byteLength, bytes = new Uint8Array(e.memory.buffer);
            if (dst > end || n > end - dst || src > end || n > end - src) no();
            for (let i = 0; i < n; i++) bytes[dst + i] = bytes[src + i];
        },
        "enter-scope": no, "exit-scope": no, promote: no,
        "free-all"() {
            const pages = e.memory.buffer.byteLength / 65536;
            e = new WebAssembly.Instance(module, {}).exports;
            e.memory.grow(pages - e.memory.buffer.byteLength / 65536);
            live = liveBytes = 0;
        },
        "heaplab-live-blocks"() { return live; },
        "heaplab-live-bytes"() { return liveBytes; },
    };
    return api;
}
const pages = () => x.memory.buffer.byteLength / 65536;
const u32 = (v) => v >>> 0;

// ---------------------------------------------------------------- contents
const blocks = new Map(); // address -> {size, seed}; seed -1: not verified (a copy wrote into it)
const pattern = (seed, i) => (seed * 31 + i * 7 + (i >>> 8)) & 255;
let bad = null;            // {block, byte}: the first change found by this request
let aux1 = 0, aux2 = 0;    // the answer's extra words

function fill(addr, seed, from, to) {
    const view = new Uint8Array(x.memory.buffer, addr, to);
    for (let i = from; i < to; i++) view[i] = pattern(seed, i);
}
function verify(addr, seed, to) {
    if (seed < 0 || bad) return;
    const view = new Uint8Array(x.memory.buffer, addr, to);
    for (let i = 0; i < to; i++)
        if (view[i] !== pattern(seed, i)) { bad = { block: addr, byte: i }; return; }
}
function verifyBlock(addr) {
    const b = blocks.get(addr);
    if (b) verify(addr, b.seed, b.size);
}
// after a call that may have freed blocks (exit, promote): forget the ones gone
function sweep() {
    for (const addr of blocks.keys()) if (x["heaplab-usable"](addr) === 0) blocks.delete(addr);
}

// ---------------------------------------------------------------- the calls
function serve(op, a, b, c) {
    switch (OPS[op]) {
    case "alloc": {
        const p = u32(x.__alloc(a, b));
        if (p) { blocks.set(p, { size: a, seed: p }); fill(p, p, 0, a); }
        return p;
    }
    case "free": {
        if (blocks.has(a) && x["heaplab-size"](a) === b) verifyBlock(a);
        const code = u32(x["heaplab-free"](a, b, c));
        if (code === 0) blocks.delete(a);
        return code;
    }
    case "realloc": {
        const old = blocks.get(a);
        if (old) verify(a, old.seed, old.size);
        const p = u32(x.realloc(a, b, c)); // traps when it fails
        if (old) {
            blocks.delete(a);
            const kept = Math.min(old.size, c);
            verify(p, old.seed, kept);
            blocks.set(p, { size: c, seed: old.seed });
            if (old.seed >= 0) fill(p, old.seed, kept, c);
        }
        return p;
    }
    case "usable": {
        const usable = u32(x["heaplab-usable"](a));
        if (usable) { aux1 = u32(x["heaplab-size"](a)); aux2 = u32(x["heaplab-align"](a)); }
        return usable;
    }
    case "copy": {
        x["mem-copy"](a, b, c);
        for (const [addr, blk] of blocks) if (addr < a + c && a < addr + blk.size) blk.seed = -1;
        return 1;
    }
    case "enter": return u32(x["enter-scope"]());
    case "exit": x["exit-scope"](a); sweep(); return 1;
    case "promote": {
        verifyBlock(b);
        const before = blocks.get(b);
        const p = u32(x.promote(a, b, c));
        sweep();
        if (before) { verify(p, before.seed, c); blocks.set(p, { size: c, seed: before.seed }); }
        return p;
    }
    case "free_all": x["free-all"](); blocks.clear(); return 1;
    default: throw new Error(`unknown operation ${op}`);
    }
}

const hello = new Uint32Array([MAGIC, x.__heap_base.value, pages(), lean ? 1 : 0]);
function send(bytes) { // the socket is non-blocking: a full buffer is waited out
    for (let sent = 0; sent < bytes.length;) {
        try { sent += writeSync(SOCKET, bytes, sent, bytes.length - sent); } catch (e) {
            if (e.code !== "EAGAIN") throw e;
            Atomics.wait(nap, 0, 0, 1);
        }
    }
}
const nap = new Int32Array(new SharedArrayBuffer(4)); // Atomics.wait's sleep
send(new Uint8Array(hello.buffer));
const request = new Uint32Array(4), requestBytes = new Uint8Array(request.buffer);
const answer = new Uint32Array(9), answerBytes = new Uint8Array(answer.buffer);
for (;;) {
    let got = 0, idle = 0;
    while (got < 16) {
        let n;
        try { n = readSync(SOCKET, requestBytes, got, 16 - got, null); } catch (e) {
            if (e.code !== "EAGAIN") throw e;
            // a non-blocking socket: poll, then nap a millisecond at a time once idle
            if (++idle > 1000) Atomics.wait(nap, 0, 0, 1);
            continue;
        }
        if (n === 0) process.exit(0); // heaplab closed the pipe: the instance is gone
        got += n;
    }
    bad = null;
    aux1 = aux2 = 0;
    let result = 0, status = 0;
    try {
        result = serve(request[0], request[1], request[2], request[3]);
        if (result && (OPS[request[0]] === "alloc" || OPS[request[0]] === "realloc" || OPS[request[0]] === "promote"))
            aux1 = u32(x["heaplab-usable"](result));
    } catch (e) {
        if (!(e instanceof WebAssembly.RuntimeError)) throw e;
        status = /unreachable/.test(e.message) ? 1 : 2;
        if (status === 2) process.stderr.write(`trap: ${e.message}\n`);
    }
    if (bad && status === 0) status = 3;
    answer.set([result, status, pages(), u32(x["heaplab-live-blocks"]()), u32(x["heaplab-live-bytes"]()),
                bad ? bad.block : 0, bad ? bad.byte : 0, aux1, aux2]);
    send(answerBytes);
}

// ---------------------------------------------------------------- the benchmark mode
async function bench(args) {
    const options = { ops: 1_000_000, live: 1000, rounds: 9 };
    const files = [];
    for (let i = 0; i < args.length; i++) {
        const flag = args[i].replace(/^--/, "");
        if (args[i].startsWith("--") && flag in options) options[flag] = Number(args[++i]);
        else files.push(args[i]);
    }
    if (files.length !== 2 || !Object.values(options).every((v) => Number.isInteger(v) && v > 0) ||
        options.ops % 2) {
        process.stderr.write("usage: node v8_runner.mjs --bench HEAPLAB.wasm DLMALLOC.wasm [--ops N (even)] " +
                             "[--live N] [--rounds N]\n");
        process.exit(2);
    }
    // a module that cannot be read or instantiated, or lacks the calls its loop makes, is bad input (exit 2)
    const load = async (file, names) => {
        let x;
        try {
            x = (await WebAssembly.instantiate(readFileSync(file), {})).instance.exports;
        } catch (e) {
            process.stderr.write(`v8_runner --bench: ${file}: ${e.message}\n`);
            process.exit(2);
        }
        const missing = names.filter((n) => typeof x[n] !== "function");
        if (missing.length) {
            process.stderr.write(`v8_runner --bench: ${file}: exports no ${missing.join(", ")}\n`);
            process.exit(2);
        }
        return x;
    };
    // the mix: a seeded generator, so both modules see the same sequence
    let state = 0x2545f491;
    const next = () => { state ^= state << 13; state ^= state >>> 17; state ^= state << 5; return state >>> 0; };
    const pairs = options.ops / 2;
    const slot = new Uint32Array(pairs), size = new Uint32Array(pairs), first = new Uint32Array(options.live);
    for (let i = 0; i < options.live; i++) first[i] = 1 + (next() % 1024);
    for (let i = 0; i < pairs; i++) { slot[i] = next() % options.live; size[i] = 1 + (next() % 1024); }

    function run(alloc, free) {
        const ptr = new Uint32Array(options.live), len = new Uint32Array(options.live);
        for (let i = 0; i < options.live; i++) {
            len[i] = first[i];
            ptr[i] = alloc(len[i]);
            if (!ptr[i]) throw new Error("out of memory while filling");
        }
        const start = process.hrtime.bigint();
        for (let i = 0; i < pairs; i++) {
            const k = slot[i];
            free(ptr[k], len[k]);
            len[k] = size[i];
            ptr[k] = alloc(len[k]);
        }
        const ns = Number(process.hrtime.bigint() - start) / options.ops;
        for (let i = 0; i < options.live; i++) if (!ptr[i]) throw new Error("an alloc failed");
        return ns;
    }
    const engines = {
        heaplab: async () => { const x = await load(files[0], ["__alloc", "__free"]); return run((n) => x.__alloc(n, 1) >>> 0, (p, n) => x.__free(p, n)); },
        dlmalloc: async () => { const x = await load(files[1], ["malloc", "free"]); return run((n) => x.malloc(n) >>> 0, (p) => x.free(p)); },
        harness: async () => { let c = 8; return run(() => (c += 16), () => 0); },
    };
    const times = { heaplab: [], dlmalloc: [], harness: [] };
    for (let r = 0; r < options.rounds; r++) {
        const order = r % 2 ? ["dlmalloc", "heaplab", "harness"] : ["heaplab", "dlmalloc", "harness"];
        for (const name of order) times[name].push(await engines[name]()); // a fresh instance each round
    }
    const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
    const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
    // the ratio of each round's pair (run back to back, so on the same machine state),
    // then their median and range: a burst of load on the machine moves one pair
    const ratios = times.heaplab.map((t, r) => t / times.dlmalloc[r]).sort((a, b) => a - b);
    console.log(`wasm bench: V8 ${process.versions.v8}, ${options.ops} calls (${options.live} live blocks of ` +
                `1..1024 bytes), median of ${options.rounds} rounds`);
    console.log(`  heaplab   ${m.heaplab.toFixed(1)} ns/op  (${files[0]}, __alloc/__free)`);
    console.log(`  dlmalloc  ${m.dlmalloc.toFixed(1)} ns/op  (${files[1]}, malloc/free)`);
    console.log(`  harness   ${m.harness.toFixed(1)} ns/op  (the same loop calling a JS no-op: included in both)`);
    console.log(`  ratio heaplab/dlmalloc: ${median(ratios).toFixed(3)}x  (median of the rounds' ratios; ` +
                `range ${ratios[0].toFixed(3)}-${ratios[ratios.length - 1].toFixed(3)})`);
}
