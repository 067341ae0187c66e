"""A partial document: `heaplab report` interrupted (Ctrl-C, SIGTERM) before every pair
was measured. Its "partial" section says why (reason) and lists the (trace, backend)
pairs not measured (not_measured); every result it holds was measured whole. The report
and compare say so, and a document merged from several is partial when one of them is."""


def of(doc):
    """Returns DOC's partial section, or None when DOC is whole."""
    return doc.get("partial")


def _pairs(pairs, limit=8):
    named = [f"{p['trace']} on {p['backend']}" for p in pairs[:limit]]
    more = f" and {len(pairs) - limit} more" if len(pairs) > limit else ""
    return ", ".join(named) + more


def describe(doc, name=None):
    """Returns the sentence saying DOC (named NAME, when given) is partial, or None."""
    section = of(doc)
    if section is None:
        return None
    missing = section["not_measured"]
    what = f"{name} is partial" if name else "Partial report"
    pairs = (f"{len(missing)} pair{'s' if len(missing) != 1 else ''} not measured: {_pairs(missing)}" if missing
             else "every pair was measured")
    return (f"{what}: {section['reason']} ({pairs}). Every figure shown was measured whole; the pairs not "
            "measured have no row.")


def combined(docs):
    """Returns the partial section of one document merged from DOCS (reasons joined,
    pairs not measured listed together), or None when none of them is partial."""
    sections = [of(d) for d in docs if of(d) is not None]
    if not sections:
        return None
    reasons = list(dict.fromkeys(s["reason"] for s in sections))
    return {"reason": "; ".join(reasons), "not_measured": [p for s in sections for p in s["not_measured"]]}
