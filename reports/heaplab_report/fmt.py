"""How numbers are written in the report's tables: one function per kind of figure."""

DASH = "-"


NOT_MEASURED = "not measured"
NOT_APPLICABLE = "n/a"  # a measure with nothing to divide by (J&W 3 with nothing live at the peak)


def rate(ops_per_sec):
    """Returns ops/s rounded to a whole number with thousands separators, e.g. "3,178,263";
    NOT_MEASURED for None (a run too short to time, or one that did not run)."""
    if ops_per_sec is None:
        return NOT_MEASURED
    return f"{round(ops_per_sec):,}"


def ns(value):
    """Returns a time in ns: whole numbers as "1,135", others with one decimal ("304.4");
    DASH for None."""
    if value is None:
        return DASH
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def count_or_not(value):
    """Returns a count as count() does; NOT_MEASURED for None."""
    return NOT_MEASURED if value is None else count(value)


def ns_or_not(value):
    """Returns a speed in ns per operation with one decimal; NOT_MEASURED for None."""
    return NOT_MEASURED if value is None else f"{value:,.1f}"


def count(value):
    """Returns a count or a size in bytes with thousands separators, e.g. "52,789,248"."""
    return f"{value:,}"


def ratio(value):
    """Returns a fragmentation ratio with two decimals, e.g. "16.33"; DASH for None."""
    return DASH if value is None else f"{value:,.2f}"


def times(value):
    """Returns a relative figure as "1.00x"; DASH for None."""
    return DASH if value is None else f"{value:.2f}x"


def percent(value):
    """Returns a fraction as a percentage with one decimal, e.g. "2.5%"; DASH for None."""
    return DASH if value is None else f"{100 * value:.1f}%"


def short(value):
    """Returns a number in 3 significant digits with a k/M/G suffix, e.g. "3.18M"; DASH for None."""
    if value is None:
        return DASH
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def binary_bytes(value):
    """Returns a size in 3 significant digits with a binary unit, e.g. "48 MiB", "512 B"."""
    for scale, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.0f} B"


def ns_fine(value):
    """Returns a micro-benchmark's time in ns, the more decimals the smaller it is: "11.00",
    "304.4", "12345"; DASH for None."""
    if value is None:
        return DASH
    if value < 100:
        return f"{value:.2f}"
    if value < 10000:
        return f"{value:.1f}"
    return f"{value:.0f}"


def times_fine(value):
    """Returns a ratio of two micro-benchmark times as "2.20x", "14.3x", "120x"; DASH for None."""
    if value is None:
        return DASH
    if value >= 100:
        return f"{value:.0f}x"
    if value >= 10:
        return f"{value:.1f}x"
    return f"{value:.2f}x"
