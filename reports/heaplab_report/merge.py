"""The `merge` command: one results document from the documents of `heaplab report
--shard I/N` runs, checked to be one measurement split in parts: one heaplab build
(build.id, the SHA-256 of the binary), every shard of one split exactly once, every
trace in one shard only, and every trace of the split run by its shard. The merged
document lists its inputs under "sources" (file, machine, build, shard, traces), so the
report can say which machine measured which trace."""
from . import partial, runs
from .load import CURRENT, InputError, compatible

READS = (3, CURRENT)  # shard documents exist from schema_version 3 on
READER = "--merge"
RENDER_INSTEAD = "render the documents without these checks with --from"


def describe_build(build):
    """Returns a build as the messages name it: its id's first 12 digits, version, compiler, flags."""
    kind = ", sanitized" if build["sanitized"] else ""
    return (f"build {build['id'][:12]}: heaplab {build['heaplab']}, {build['compiler']}, "
            f"flags {build.get('flags', '-')}{kind}")


def _shard_name(doc):
    s = doc.get("shard")
    return f"shard {s['index']}/{s['count']}" if s else "not a shard"


def _one_build(named_docs):
    first_name, first = named_docs[0]
    for name, doc in named_docs[1:]:
        if doc["build"]["id"] != first["build"]["id"]:
            raise InputError(f"cannot merge {first_name} ({describe_build(first['build'])}) and {name} "
                             f"({describe_build(doc['build'])}): the shards of one report must come from one "
                             "heaplab build (build.id is the SHA-256 of the binary: build once and run that "
                             "binary everywhere)")


def _one_split(named_docs):
    """Returns the split's every trace (in path order), or None when no document is a shard.

    Raises InputError unless every document is a shard of one split (same N, same traces)
    and shards 1..N are each there once."""
    split = [(name, doc) for name, doc in named_docs if "shard" in doc]
    if not split:
        return None
    if len(split) != len(named_docs):
        plain = next(name for name, doc in named_docs if "shard" not in doc)
        raise InputError(f"{plain} is not a shard (it has no shard section: run with --shard I/N) but "
                         f"{split[0][0]} is; {RENDER_INSTEAD}")
    first_name, first = split[0]
    given = {}
    for name, doc in split:
        shard = doc["shard"]
        if shard["count"] != first["shard"]["count"]:
            raise InputError(f"{first_name} is {_shard_name(first)} and {name} {_shard_name(doc)}: "
                             "not shards of one split")
        if shard["all_traces"] != first["shard"]["all_traces"]:
            raise InputError(f"{first_name} and {name} split different sets of traces ("
                             f"{len(first['shard']['all_traces'])} and {len(shard['all_traces'])} traces): run "
                             "every shard over the same traces")
        if shard["index"] in given:
            raise InputError(f"{given[shard['index']]} and {name} are both {_shard_name(doc)}")
        given[shard["index"]] = name
    count = first["shard"]["count"]
    missing = [i for i in range(1, count + 1) if i not in given]
    if missing:
        have = ", ".join(f"{i}/{count} {given[i]}" for i in sorted(given))
        raise InputError(f"shard {', '.join(f'{i}/{count}' for i in missing)} missing (given: {have}); "
                         f"{RENDER_INSTEAD}")
    return first["shard"]["all_traces"]


def traces_of(doc):
    """Returns the traces DOC ran: its shard's list, then any other trace its results name."""
    return list(dict.fromkeys(doc.get("shard", {}).get("traces", []) + runs.traces(doc)))


def _each_trace_once(named_docs, every):
    owner = {}
    for name, doc in named_docs:
        for trace in traces_of(doc):
            if trace in owner:
                other, first = owner[trace]
                raise InputError(f"{trace} is in both {other} ({_shard_name(first)}) and {name} "
                                 f"({_shard_name(doc)}): a trace belongs to one shard")
            owner[trace] = (name, doc)
    if every is not None:
        unrun = [t for t in every if t not in owner]
        if unrun:
            more = f" and {len(unrun) - 1} more" if len(unrun) > 1 else ""
            raise InputError(f"{unrun[0]}{more} of the split ran in no shard (did every machine see the same "
                             "trace files? the split is by file size)")


def merge(named_docs):
    """Returns one document of the (name, document) pairs' results; raises InputError
    (see the module's checks and load.compatible).

    Its machine and build are the first input's; "sources" lists each input's file,
    machine, build, shard and traces. With a split, results are in the split's trace order
    (the order an unsharded run of the same paths sorted would list them). A shard that
    was interrupted makes the merged document partial (partial.combined)."""
    if not named_docs:
        raise InputError("--merge: no documents given")
    _one_build(named_docs)
    compatible(named_docs)
    every = _one_split(named_docs)
    _each_trace_once(named_docs, every)
    results = [r for _, doc in named_docs for r in doc["results"]]
    if every is not None:
        place = {t: i for i, t in enumerate(every)}
        results.sort(key=lambda r: place.get(r["trace"], len(place)))  # stable: backends and repeats keep order
    first = named_docs[0][1]
    sources = []
    for name, doc in named_docs:
        source = {"file": str(name), "machine": doc["machine"], "build": doc["build"],
                  "results": len(doc["results"]), "traces": traces_of(doc)}
        if "shard" in doc:
            source["shard"] = {"index": doc["shard"]["index"], "count": doc["shard"]["count"]}
        sources.append(source)
    if every is not None:
        sources.sort(key=lambda s: s["shard"]["index"])
    section = partial.combined([doc for _, doc in named_docs])
    return {"schema_version": CURRENT, "machine": first["machine"], "build": dict(first["build"]),
            "sources": sources, **({"partial": section} if section else {}), "results": results}

