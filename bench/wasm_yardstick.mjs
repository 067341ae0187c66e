// wasm_yardstick.mjs: the yardstick of `make bench-wasm`. The runner's benchmark mode
// (allocators/wasm/v8_runner.mjs --bench) times both modules through one harness: a
// loop over closures, with its own generator and its own order of rounds. This script
// shares none of it. It is a plain loop written out once per module, calling each
// module's exports directly, over a mix drawn by a different generator (a 32-bit LCG,
// not the runner's xorshift): LIVE blocks of 1..1024 bytes, then OPS calls, each pair
// a free of a random block and an alloc in its place. If the runner's figures measure
// the allocators, this script finds the same ns/op and the same ratio.
//
// usage: node bench/wasm_yardstick.mjs HEAPLAB.wasm DLMALLOC.wasm [FLOOR.wasm] [--ops N (even)] [--live N] [--rounds N]
//
// Prints each module's median ns/op over the rounds (a fresh instance each round, the
// order alternating) and the median of the rounds' ratios. FLOOR.wasm
// (build/bench/wasm-floor.wasm, bench/wasm_floor.c) has seed 004's surface and does no
// allocator work: timed in heaplab's loop, it is the cost of the calls and the loop,
// the part of any allocator's ns/op here that no allocator can remove. Node's
// standard library only.
import { readFileSync } from "node:fs";

const options = { ops: 1_000_000, live: 1000, rounds: 9 };
const files = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
    const flag = args[i].replace(/^--/, "");
    if (args[i].startsWith("--") && flag in options) options[flag] = Number(args[++i]);
    else files.push(args[i]);
}
if (files.length < 2 || files.length > 3 || !Object.values(options).every((v) => Number.isInteger(v) && v > 0) || options.ops % 2) {
    process.stderr.write("usage: node bench/wasm_yardstick.mjs HEAPLAB.wasm DLMALLOC.wasm [FLOOR.wasm] [--ops N (even)] " +
                         "[--live N] [--rounds N]\n");
    process.exit(2);
}
const bytes = files.map((f) => {
    try {
        return readFileSync(f);
    } catch (e) {
        process.stderr.write(`wasm_yardstick: ${f}: ${e.message}\n`);
        process.exit(2);
    }
});

let seed = 12345;
const lcg = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
const pairs = options.ops / 2, live = options.live;
const fill = new Uint32Array(live), slot = new Uint32Array(pairs), size = new Uint32Array(pairs);
for (let i = 0; i < live; i++) fill[i] = 1 + ((lcg() >>> 8) % 1024);
for (let i = 0; i < pairs; i++) {
    slot[i] = (lcg() >>> 8) % live;
    size[i] = 1 + ((lcg() >>> 8) % 1024);
}

// module k's exports; one that cannot be instantiated or lacks the calls its loop makes is bad input (exit 2)
async function instance(k, names) {
    let x;
    try {
        x = (await WebAssembly.instantiate(bytes[k], {})).instance.exports;
    } catch (e) {
        process.stderr.write(`wasm_yardstick: ${files[k]}: ${e.message}\n`);
        process.exit(2);
    }
    const missing = names.filter((n) => typeof x[n] !== "function");
    if (missing.length) {
        process.stderr.write(`wasm_yardstick: ${files[k]}: exports no ${missing.join(", ")}\n`);
        process.exit(2);
    }
    return x;
}

// heaplab's module (k 0) or the floor (k 2) through seed 004: __alloc(len, align), __free(ptr, len)
async function seed004(k) {
    const x = await instance(k, ["__alloc", "__free"]), alloc = x.__alloc, free = x.__free;
    const ptr = new Uint32Array(live), len = new Uint32Array(live);
    for (let i = 0; i < live; i++) ptr[i] = alloc((len[i] = fill[i]), 1);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < pairs; i++) {
        const k = slot[i];
        free(ptr[k], len[k]);
        ptr[k] = alloc((len[k] = size[i]), 1);
    }
    const ns = Number(process.hrtime.bigint() - t0) / options.ops;
    if (ptr.includes(0)) throw new Error(`${files[k]}: an alloc failed`);
    return ns;
}

// dlmalloc through malloc(len), free(ptr)
async function dlmalloc() {
    const x = await instance(1, ["malloc", "free"]), malloc = x.malloc, free = x.free;
    const ptr = new Uint32Array(live);
    for (let i = 0; i < live; i++) ptr[i] = malloc(fill[i]);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < pairs; i++) {
        const k = slot[i];
        free(ptr[k]);
        ptr[k] = malloc(size[i]);
    }
    const ns = Number(process.hrtime.bigint() - t0) / options.ops;
    if (ptr.includes(0)) throw new Error(`${files[1]}: a malloc failed`);
    return ns;
}

const h = [], d = [], f = [];
for (let r = 0; r < options.rounds; r++) {
    if (r % 2) {
        d.push(await dlmalloc());
        h.push(await seed004(0));
    } else {
        h.push(await seed004(0));
        d.push(await dlmalloc());
    }
    if (files[2]) f.push(await seed004(2));
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const ratios = h.map((t, r) => t / d[r]);
console.log(`wasm yardstick: a plain loop per module, ${options.ops} calls (${live} live blocks of 1..1024 bytes), ` +
            `${options.rounds} rounds`);
console.log(`  heaplab   ${median(h).toFixed(1)} ns/op`);
console.log(`  dlmalloc  ${median(d).toFixed(1)} ns/op`);
console.log(`  ratio heaplab/dlmalloc: ${median(ratios).toFixed(3)}x`);
if (files[2]) {
    const floors = f.map((t, r) => t / d[r]);
    console.log(`  floor     ${median(f).toFixed(1)} ns/op  (${files[2]}: the calls and the loop, no allocator ` +
                `work; ${median(floors).toFixed(3)}x dlmalloc's)`);
}
