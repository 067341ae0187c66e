"""Reading results documents: parse, check the version, validate against that version's
schema, merge several."""
import json
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from . import partial
from .errors import InputError, read_json_file

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"
SCHEMA_PATH = SCHEMA_DIR / "results.schema.json"
# The schema_version heaplab writes, and the file describing each version the report
# reads. A version 2 document (before build.id, shard and sources) or 3 (before
# speed.entry) reads as one whose new fields are absent.
CURRENT = 4
SCHEMAS = {2: SCHEMA_DIR / "results-2.schema.json", 3: SCHEMA_DIR / "results-3.schema.json", CURRENT: SCHEMA_PATH}
READS = tuple(sorted(SCHEMAS))


def validator(version=CURRENT):
    """Returns a validator for the schema of VERSION (reports/schema/); raises InputError if unreadable."""
    path = SCHEMAS[version]
    try:
        return Draft202012Validator(json.loads(path.read_text()))
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: cannot read the results schema: {e}") from None


def versions_text(versions):
    """Returns "2 and 3" for (2, 3)."""
    names = [str(v) for v in versions]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def version_of(doc, name, versions=READS, reader="this heaplab"):
    """Returns the schema_version of DOC when it is one of VERSIONS (CURRENT when DOC has
    none, so that the schema names what is missing); raises InputError naming NAME, its
    version and the versions READER reads."""
    version = doc.get("schema_version", CURRENT) if isinstance(doc, dict) else CURRENT
    if isinstance(version, int) and not isinstance(version, bool) and version not in versions:
        raise InputError(f"{name}: schema_version {version}: {reader} reads schema_version "
                         f"{versions_text(versions)}")
    return version if version in SCHEMAS else CURRENT


def check(doc, name, version=CURRENT):
    """Returns DOC if it validates against VERSION's schema; raises InputError naming NAME
    and the JSON path of the violation."""
    error = best_match(validator(version).iter_errors(doc))
    if error is not None:
        message = error.message if len(error.message) <= 200 else error.message[:200] + "..."
        raise InputError(f"{name}: schema violation at {error.json_path}: {message}")
    return doc


def load(path, versions=READS, reader="this heaplab"):
    """Returns the results document in PATH (a dict), validated against its version's schema.

    Raises InputError naming the file when it is missing or unreadable, is not JSON, has a
    schema_version not in VERSIONS (the message names both and READER, who reads them), or
    violates its schema (with the JSON path of the violation)."""
    doc = read_json_file(path)
    return check(doc, path, version_of(doc, path, versions, reader))


def _one_kind(named_docs, label, value_of, explain):
    """Raises InputError when VALUE_OF differs between the named documents' results."""
    seen = {}
    for name, doc in named_docs:
        for value in value_of(doc):
            seen.setdefault(value, name)
    if len(seen) > 1:
        where = ", ".join(f"{label} {str(v).lower()} in {n}" for v, n in seen.items())
        raise InputError(f"cannot mix these results ({where}): {explain}")


def compatible(named_docs):
    """Returns None when the (name, document) pairs may be shown or compared together.

    Raises InputError when some come from a sanitized build and others not, or when
    their fragmentation figures differ in comparability."""
    _one_kind(named_docs, "build.sanitized", lambda d: [d["build"]["sanitized"]],
              "a sanitized build's times and footprints are not comparable with a release build's")
    _one_kind(named_docs, "fragmentation.comparable",
              lambda d: [r["fragmentation"]["comparable"] for r in d["results"] if r["fragmentation"]],
              "footprints measured under a sanitizer are not the allocator's")


def merge(named_docs):
    """Returns one document holding the results of the (name, document) pairs, in order.

    One document is returned as it is. Several keep the first one's machine and build and
    list every input under "sources" (file, machine, build, number of results), the
    micro-benchmarks of the first that has them, and a partial section when one of them is
    partial (partial.combined). Raises InputError when the documents may
    not be mixed (see compatible)."""
    compatible(named_docs)
    if len(named_docs) == 1:
        return named_docs[0][1]
    first = named_docs[0][1]
    micro = next(({"micro": d["micro"]} for _, d in named_docs if "micro" in d), {})
    section = partial.combined([d for _, d in named_docs])
    return {
        "schema_version": first["schema_version"],
        "machine": first["machine"],
        "build": dict(first["build"]),
        "sources": [{"file": str(name), "machine": d["machine"], "build": d["build"], "results": len(d["results"]),
                     "traces": list(dict.fromkeys(r["trace"] for r in d["results"]))}
                    for name, d in named_docs],
        **({"partial": section} if section else {}),
        "results": [r for _, d in named_docs for r in d["results"]],
        **micro,
    }


def load_all(paths):
    """Returns the merged, validated document of PATHS; raises InputError (see load, merge)."""
    return merge([(str(p), load(p)) for p in paths])
