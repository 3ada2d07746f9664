"""Stand-in for ISF's ``getting_started`` package, which ISF's
``tests/test_data_base/__init__.py`` imports to find its example data. That path is
rewritten to the shared example data (``rewrites.example_data_rewrite``), so nothing of
the package is used; the import only has to succeed."""
