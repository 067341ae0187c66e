"""heaplab's report: renders `heaplab replay --json` results documents as HTML and
Markdown with plots (`render`), compares two runs (`compare`), and merges the shards of
a split run into one report (`merge`).

Run as `PYTHONPATH=reports /usr/bin/python3 -m heaplab_report --help`.
"""
