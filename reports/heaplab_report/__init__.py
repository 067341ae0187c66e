"""heaplab's report: renders `heaplab replay --json` results documents as HTML and
Markdown with plots (`render`), and compares two runs (`compare`).

Run as `PYTHONPATH=reports /usr/bin/python3 -m heaplab_report --help`.
"""
