"""The report package's tests (a package, so that test_micro.py here and tests/bench/test_micro.py
are two modules)."""
