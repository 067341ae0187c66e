"""The report's figures (matplotlib, drawn off-screen by Agg): latency CDFs, footprint
over time, fragmentation bars and the relative-speed heat map. Each builder returns a
matplotlib Figure, or None when the document holds nothing to draw."""
import io
import math

import matplotlib

matplotlib.use("Agg")
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from . import fmt, runs  # noqa: E402
from .table import FRAGMENTATION  # noqa: E402

COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999933"]
LINES = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1)), (0, (8, 2, 1, 2))]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "<", ">"]
MEASURES = {"time_average": "1: time average", "at_peak_live": "2: at peak live",
            "at_peak_footprint": "3: at peak footprint", "peak_to_peak": "4: peak to peak"}
HATCHES = ["", "//", "..", "xx"]
PERCENTILES = [(0.1, "p10"), (0.5, "p50"), (0.9, "p90"), (0.99, "p99"), (0.999, "p99.9"), (0.9999, "p99.99")]
UNITS = [(2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"), (1, "B")]
SPAN = 8
DPI = 100


def styles(backends):
    """Returns {backend: {color, linestyle, marker}}: every backend differs in all three
    (colour-blind safe colours; line styles and markers keep them apart in grey)."""
    return {b: {"color": COLORS[i % len(COLORS)], "linestyle": LINES[i % len(LINES)],
                "marker": MARKERS[i % len(MARKERS)]} for i, b in enumerate(backends)}


def _by_trace(doc, trace):
    """Returns [(backend, representative result)] of TRACE."""
    return [(b, r) for t, b, _, r in runs.table(doc) if t == trace]


def _kinds(results):
    """Returns the latency kinds of RESULTS, the most calls first (at most 3)."""
    totals = {}
    for _, r in results:
        for kind, h in r["latency"]["kinds"].items():
            totals[kind] = totals.get(kind, 0) + h["count"]
    return sorted(totals, key=lambda k: -totals[k])[:3]


def _cdf(histogram):
    """Returns (x, y): each non-empty bucket's top in ns (0 drawn at 1 ns, for the log
    axis) and the fraction of calls at or below it."""
    total, seen, xs, ys = histogram["count"], 0, [], []
    for _low, high, n in histogram["buckets"]:
        seen += n
        xs.append(max(high, 1))
        ys.append(seen / total)
    return xs, ys


def latency_cdf(doc, trace, style):
    """Returns a Figure of TRACE's latency CDFs, one panel per kind (the 3 most called),
    one line per backend; None when no run of TRACE measured latency."""
    results = [(b, r) for b, r in _by_trace(doc, trace) if r["latency"]]
    if not results:
        return None
    kinds = _kinds(results)
    fig = Figure(figsize=(5.2 * len(kinds), 4.6), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, len(kinds), squeeze=False)[0]
    zero = False
    for ax, kind in zip(axes, kinds):
        for backend, r in results:
            h = r["latency"]["kinds"].get(kind)
            if h is None:
                continue
            xs, ys = _cdf(h)
            zero |= h["buckets"][0][1] == 0
            # a last point of exactly 1 lies at +infinity on the logit axis: the line
            # leaves the top of the plot at the maximum
            ax.plot(xs, [min(y, 1 - 1e-6) for y in ys], drawstyle="steps-post", label=backend,
                    markevery=max(1, len(xs) // 8), markersize=5, linewidth=1.6, **style[backend])
        ax.set_xscale("log")
        ax.set_yscale("logit")
        ax.set_ylim(0.01, 0.99995)
        ax.set_yticks([p for p, _ in PERCENTILES], [name for _, name in PERCENTILES])
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda *_: ""))
        ax.grid(True, which="major", alpha=0.4)
        ax.set_title(kind)
        ax.set_xlabel("latency per call, ns (log scale)")
        ax.set_ylabel("fraction of calls at or below (percentile)")
        ax.legend(title="backend", fontsize="small", loc="best")
    note = "; 0 ns drawn at 1 ns" if zero else ""
    fig.suptitle(f"Latency CDF on {trace} (bucket tops{note})")
    return fig


def footprint(doc, trace, style):
    """Returns a Figure of TRACE's footprint per backend and the live bytes over the
    operations; None when no run of TRACE measured fragmentation."""
    results = [(b, r) for b, r in _by_trace(doc, trace) if r["fragmentation"]]
    if not results:
        return None
    fig = Figure(figsize=(10, 5), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    top = max(max(r["fragmentation"]["timeline"]["footprint_bytes"] + r["fragmentation"]["timeline"]["live_bytes"]
                  + [0]) for _, r in results)
    scale, unit = next((size, name) for size, name in UNITS if top >= size or size == 1)
    lives = {tuple(r["fragmentation"]["timeline"]["live_bytes"]) for _, r in results}
    for backend, r in results:
        line = r["fragmentation"]["timeline"]
        ax.plot(line["op"], [v / scale for v in line["footprint_bytes"]], label=f"{backend} footprint",
                drawstyle="steps-post", markevery=max(1, len(line["op"]) // 10), markersize=5, linewidth=1.6,
                **style[backend])
        if len(lives) > 1:
            ax.plot(line["op"], [v / scale for v in line["live_bytes"]], color=style[backend]["color"],
                    linestyle=style[backend]["linestyle"], drawstyle="steps-post", linewidth=0.9, alpha=0.7,
                    label=f"{backend} live bytes")
    if len(lives) == 1:
        line = results[0][1]["fragmentation"]["timeline"]
        ax.fill_between(line["op"], [v / scale for v in line["live_bytes"]], color="0.5", alpha=0.35, step="post",
                        linewidth=0, label="live bytes (requested)")
    ax.set_ylim(bottom=0)
    ax.set_xlabel("operation index (time)")
    ax.set_ylabel(f"bytes, {unit}")
    ax.grid(True, alpha=0.4)
    ax.legend(fontsize="small", loc="upper left")
    comparable = "" if results[0][1]["fragmentation"]["comparable"] else " (sanitized build: not comparable)"
    ax.set_title(f"Footprint and live bytes over time on {trace}{comparable}")
    return fig


def fragmentation(doc, trace):
    """Returns a Figure of TRACE's four Johnstone-Wilson fragmentation ratios grouped per
    backend; None when no run of TRACE measured fragmentation."""
    results = [(b, r) for b, r in _by_trace(doc, trace) if r["fragmentation"]]
    if not results:
        return None
    fig = Figure(figsize=(max(6.0, 1.3 * len(results) + 2), 4.6), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(FRAGMENTATION)
    values = []
    for i, measure in enumerate(FRAGMENTATION):
        ys = [r["fragmentation"][measure] or 0 for _, r in results]  # None (n/a): no bar
        values += ys
        ax.bar([j + (i - 1.5) * width for j in range(len(results))], ys, width, label=MEASURES[measure],
               color=COLORS[i], hatch=HATCHES[i], edgecolor="black", linewidth=0.6)
    ax.axhline(1.0, color="black", linewidth=1, linestyle="--", label="1.0: no fragmentation")
    if max(values) > 20:
        ax.set_yscale("log")
    ax.set_xticks(range(len(results)), [b for b, _ in results])
    ax.set_xlabel("backend")
    ax.set_ylabel("footprint / live bytes (ratio" + (", log scale)" if max(values) > 20 else ")"))
    ax.grid(True, axis="y", alpha=0.4)
    ax.legend(fontsize="small", title="measure")
    comparable = "" if results[0][1]["fragmentation"]["comparable"] else " (sanitized build: not comparable)"
    ax.set_title(f"Fragmentation on {trace}{comparable}")
    return fig


def relative_speed(doc, base):
    """Returns a Figure: the heat map of ops/s over the baseline BASE's, trace x backend,
    each cell annotated with its value; None when DOC has no results."""
    ts, bs, rows = runs.relative_speed(doc, base)
    if not ts:
        return None
    known = [v for row in rows for v in row if v]
    widest = max([2.0] + [max(v, 1 / v) for v in known])
    span = min(widest, SPAN)  # beyond SPAN times the colour saturates, so that 2x still shows
    norm = LogNorm(vmin=1 / span, vmax=span, clip=True)
    fig = Figure(figsize=(1.4 * len(bs) + 4.5, 0.6 * len(ts) + 2.2), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    grid = [[v if v else math.nan for v in row] for row in rows]
    image = ax.imshow(grid, cmap="RdBu", norm=norm, aspect="auto")
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            dark = v is not None and abs(math.log(v)) > 0.6 * math.log(span)
            ax.text(j, i, fmt.times(v), ha="center", va="center", fontsize=9,
                    color="white" if dark else "black", fontweight="bold" if bs[j] == base else "normal")
    ax.set_xticks(range(len(bs)), bs)
    ax.set_yticks(range(len(ts)), ts)
    ax.set_xlabel("backend")
    ax.set_ylabel("trace")
    bar = fig.colorbar(image, ax=ax, extend="both" if widest > span else "neither")
    ticks = [2.0**k for k in range(-3, 4) if 1 / span <= 2.0**k <= span]
    bar.set_ticks(ticks, labels=[f"{t:g}x" for t in ticks])
    bar.minorticks_off()
    bar.set_label(f"ops/s relative to {base} (x, log scale): >1 faster")
    ax.set_title(f"Relative speed: ops/s / {base}'s ops/s on the same trace")
    return fig


def png(fig):
    """Returns FIG drawn as a PNG file's bytes."""
    data = io.BytesIO()
    fig.savefig(data, format="png", dpi=DPI)
    return data.getvalue()
