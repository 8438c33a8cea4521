"""Fewer passes of Python's cyclic garbage collector while pmtype does its text work.

CPython runs a collection pass every 700 net allocations of container objects
(lists, tuples, dicts, instances). Turning a batch of postings into features
allocates and keeps hundreds of thousands of them (sentences, their words,
cues), so at that rate the collector walks the same live objects again and
again. ``fewer_gc_passes`` raises the first generation's threshold for the
length of a block and puts the caller's settings back afterwards. Memory is
unaffected in practice: objects are still freed by reference counting the
moment nothing refers to them; only garbage held in reference cycles waits
for the next, rarer pass.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from pmtype import config


@contextmanager
def fewer_gc_passes(threshold: int | None = None) -> Iterator[None]:
    """Run the block with the collector's first threshold at least ``threshold``
    (None: ``config.GC_GEN0_THRESHOLD``).

    Leaves the collector alone where the caller has turned it off or already
    set a higher threshold (so nested blocks change nothing), and restores the
    caller's thresholds on the way out, also after an exception.
    """
    threshold = config.GC_GEN0_THRESHOLD if threshold is None else threshold
    before = gc.get_threshold()
    if not gc.isenabled() or before[0] == 0 or before[0] >= threshold:
        yield
        return
    gc.set_threshold(threshold, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
