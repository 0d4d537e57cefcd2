"""A backend package imported without its extra: an ``ImportError`` that names the extra."""

from __future__ import annotations

from collections.abc import Iterable


def extra_missing(
    error: ModuleNotFoundError, package: str, extra: str, needs: Iterable[str]
) -> ModuleNotFoundError | None:
    """The error to raise instead of ``error`` when the missing module is one of ``needs``
    (top-level names) of ``package``'s ``extra``; ``None`` when it is another module."""
    missing = (error.name or "").partition(".")[0]
    if missing not in set(needs):
        return None
    return ModuleNotFoundError(
        f"{package} needs {missing!r}, which is not installed: "
        f"pip install 'event-sourcery[{extra}]'",
        name=error.name,
    )
