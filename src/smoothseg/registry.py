"""The one registry class: name → component (readers, writers, models, datasets, losses).

Unknown names raise the registry's own error type with the list of valid names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, TypeVar


class Named(Protocol):
    """A registered component: anything with a ``name``."""

    @property
    def name(self) -> str:
        """The registry key."""


T = TypeVar("T", bound=Named)


class Registry(Generic[T]):
    """Name → component; each name registered once; lookups list the valid names on failure."""

    def __init__(
        self,
        role: str,
        *,
        unknown: Callable[[str, str], Exception] | None = None,
        check: Callable[[T], None] | None = None,
    ) -> None:
        """Create an empty registry.

        Args:
            role: What the components are (``reader``, ``model``...), for messages.
            unknown: Builds the error for an unknown name from ``(name, valid names)``
                (default: a ``ValueError``).
            check: Validates a component before it is registered (raises on a bad one).

        """
        self.role = role
        self._unknown = unknown
        self._check = check
        self._items: dict[str, T] = {}

    def register(self, item: T) -> T:
        """Add ``item`` under its name (once); returns it, so it can decorate or assign."""
        if item.name in self._items:
            raise ValueError(f"{self.role} {item.name!r} is already registered")
        if self._check is not None:
            self._check(item)
        self._items[item.name] = item
        return item

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)

    def specs(self) -> list[T]:
        """Registered components, sorted by name."""
        return [self._items[n] for n in self.names()]

    def get(self, name: str) -> T:
        """The component called ``name``; the error lists the valid names."""
        try:
            return self._items[name]
        except KeyError:
            valid = ", ".join(self.names())
            if self._unknown is not None:
                raise self._unknown(name, valid) from None
            raise ValueError(f"unknown {self.role} {name!r}; valid: {valid}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._items
