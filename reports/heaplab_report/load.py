"""Reading results documents: parse, validate against the schema, merge several."""
import json
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "results.schema.json"


class InputError(Exception):
    """Input the report cannot use; the message names the file. The CLI exits 2 with it."""


def validator():
    """Returns a validator for reports/schema/results.schema.json; raises InputError if unreadable."""
    try:
        return Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    except (OSError, ValueError) as e:
        raise InputError(f"{SCHEMA_PATH}: cannot read the results schema: {e}") from None


def check(doc, name):
    """Returns DOC if it validates; raises InputError naming NAME and the JSON path of the violation."""
    error = best_match(validator().iter_errors(doc))
    if error is not None:
        message = error.message if len(error.message) <= 200 else error.message[:200] + "..."
        raise InputError(f"{name}: schema violation at {error.json_path}: {message}")
    return doc


def load(path):
    """Returns the results document in PATH (a dict), validated.

    Raises InputError naming the file when it is missing or unreadable, is not JSON, or
    violates the schema (with the JSON path of the violation)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read: {e}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: invalid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    return check(doc, path)


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
    list every input under "sources" (file, machine, build, number of results).
    Raises InputError when the documents may not be mixed (see compatible)."""
    compatible(named_docs)
    if len(named_docs) == 1:
        return named_docs[0][1]
    first = named_docs[0][1]
    return {
        "schema_version": first["schema_version"],
        "machine": first["machine"],
        "build": dict(first["build"]),
        "sources": [{"file": str(name), "machine": d["machine"], "build": d["build"], "results": len(d["results"])}
                    for name, d in named_docs],
        "results": [r for _, d in named_docs for r in d["results"]],
    }


def load_all(paths):
    """Returns the merged, validated document of PATHS; raises InputError (see load, merge)."""
    return merge([(str(p), load(p)) for p in paths])
