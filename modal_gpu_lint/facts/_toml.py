"""tomllib on 3.11+, tomli before."""

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["read_data", "tomllib"]


def read_data(package: str, name: str) -> str:
    """The text of the data file `name` of `package` (the catalog, models, advice), through the
    package's loader like `importlib.resources` (zip imports too), without its 20 ms of imports."""
    import pkgutil

    data = pkgutil.get_data(package, name)
    if data is None:  # pragma: no cover - a loader that cannot read data files
        raise FileNotFoundError(f"{package}/{name}")
    return data.decode("utf-8")
