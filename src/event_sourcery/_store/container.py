"""A small dependency-injection container: type keys mapped to providers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar, overload

from typing_extensions import Self

from event_sourcery.exceptions import NoProviderConfigured

T = TypeVar("T")
Provider = Callable[["Container"], Any]


class Container:
    """Maps a type key to a provider ``provider(container) -> instance``.

    Assigning an instance of the key's type stores it as a constant; anything else callable is
    taken as a provider.
    """

    def __init__(self) -> None:
        self._providers: dict[Any, Provider] = {}

    def __getitem__(self, key: type[T]) -> T:
        try:
            provider = self._providers[key]
        except KeyError:
            raise KeyError(key) from None
        return provider(self)  # type: ignore[no-any-return]

    def __setitem__(self, key: Any, value: Any) -> None:
        if _is_instance(value, key) or not callable(value):
            self._providers[key] = _constant(value)
        else:
            self._providers[key] = value

    def __contains__(self, key: Any) -> bool:
        return key in self._providers

    @overload
    def get(self, key: type[T]) -> T | None: ...

    @overload
    def get(self, key: type[T], default: T) -> T: ...

    def get(self, key: type[T], default: T | None = None) -> T | None:
        if key not in self._providers:
            return default
        return self[key]

    def copy(self) -> Self:
        """A new container sharing constants and singletons, with its own provider map."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._providers = dict(self._providers)
        return clone


def _is_instance(value: Any, key: Any) -> bool:
    try:
        return isinstance(value, key)
    except TypeError:  # keys that are not classes (aliases, plain protocols)
        return False


def _constant(value: Any) -> Provider:
    return lambda _container: value


def singleton(provider: Callable[[Any], T]) -> Callable[[Any], T]:
    """Wrap ``provider`` so its first result is kept and shared by every copy of the container."""
    lock = threading.Lock()
    cell: list[T] = []

    def provide(container: Any) -> T:
        if not cell:
            with lock:
                if not cell:
                    cell.append(provider(container))
        return cell[0]

    return provide


def not_configured(message: str) -> Callable[[Any], Any]:
    """A provider that raises ``NoProviderConfigured(message)`` when resolved."""

    def provide(_container: Any) -> Any:
        raise NoProviderConfigured(message)

    return provide


__all__ = ["Container", "not_configured", "singleton"]
