"""Top-level conftest: the suite's options, lifecycle and fixtures live in the package.

Kept thin on purpose: everything is in mysqlsts.plugin so that it is importable,
typed and unit-tested. pytest-kind's own plugin is disabled in tox.ini's [pytest]
section (-p no:pytest-kind): its options clash with ours and its fixture is not
xdist-safe; the suite uses only its KindCluster class.
"""

pytest_plugins = ["mysqlsts.plugin"]
