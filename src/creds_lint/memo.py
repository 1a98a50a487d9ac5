"""A property worked out on first use and then kept: :func:`functools.cached_property` without its lock.

Python 3.11's ``cached_property`` takes a lock on every first computation (Python 3.12 dropped it); a run works
out some hundred thousand facts about certificates and entries this way, each once, on one thread. Here the value
is computed and stored in the instance's ``__dict__``, where every later read finds it without calling the
property. Two threads that ask at once may both compute it: the values are pure, so either is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Self, TypeVar, overload

T = TypeVar("T")


class cached(Generic[T]):
    """``@cached`` on a method: the method's value on first read, kept in the instance (frozen dataclasses too)."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self._compute = compute
        self._name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> Self: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object, owner: type | None = None) -> T | Self:
        if instance is None:
            return self
        value = self._compute(instance)
        instance.__dict__[self._name] = value
        return value
