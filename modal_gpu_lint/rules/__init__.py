"""The rules: one module per group; `registry` lists them all, `table` is their libcst-free summary.

Importing this package imports no checker (and no libcst): the mypy plugin uses `gpu_checks`, and a
warm run uses `table`.
"""
