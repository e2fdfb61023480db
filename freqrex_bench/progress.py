"""Progress bars for long model work, shown only when asked for."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def query_bar(enabled: bool, total: int | None = None) -> Iterator[Callable[[int], None] | None]:
    """Yield an `on_queries(n)` callback advancing a tqdm bar of model queries, or None when not `enabled`.

    `total` is the expected number of queries (e.g. the budget; None: unknown). The bar is drawn only on
    a terminal, so logs and captured stderr stay clean.
    """
    if not enabled:
        yield None
        return
    with tqdm(total=total, unit="query", desc="model queries", leave=False, disable=None) as bar:
        yield bar.update
