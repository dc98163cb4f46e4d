"""Old keyword names kept for one release: :func:`renamed_keywords` maps them to the new ones with a warning.

qnet names each concept once (``link_backend`` for the link simulator, ``swap_policy``,
``memory_policy``); the spellings used before that rule still work for one release and emit a
:class:`DeprecationWarning` naming the new keyword. Imports nothing from qnet (below every layer).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["renamed_keywords"]

F = TypeVar("F", bound=Callable[..., Any])


def renamed_keywords(**renames: str) -> Callable[[F], F]:
    """Decorate a function (or a class, for its constructor) so that old keyword names still work.

    Parameters
    ----------
    **renames : str
        ``old="new"``: a call with ``old=value`` becomes ``new=value`` after a
        ``DeprecationWarning`` ("f(old=...) is deprecated, use new=...").

    Returns
    -------
    callable
        The decorator. Passing both ``old`` and ``new`` raises ``TypeError``.

    Examples
    --------
    >>> import warnings
    >>> @renamed_keywords(engine="link_backend")
    ... def run(link_backend="aer"):
    ...     return link_backend
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     run(engine="batch")
    'batch'
    >>> str(caught[0].message)
    'run(engine=...) is deprecated, use link_backend=...'
    """

    def move(name: str, kwargs: dict[str, Any]) -> None:
        for old, new in renames.items():
            if old in kwargs:
                if new in kwargs:
                    raise TypeError(f"{name}() got both {old}= (deprecated) and {new}=")
                warnings.warn(f"{name}({old}=...) is deprecated, use {new}=...", DeprecationWarning, stacklevel=3)
                kwargs[new] = kwargs.pop(old)

    def decorate(obj: F) -> F:
        if isinstance(obj, type):
            init = obj.__init__  # type: ignore[misc]  # the class's own constructor, wrapped below

            @functools.wraps(init)
            def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
                move(obj.__name__, kwargs)
                init(self, *args, **kwargs)

            obj.__init__ = __init__  # type: ignore[misc]
            return obj

        @functools.wraps(obj)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            move(obj.__name__, kwargs)
            return obj(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
