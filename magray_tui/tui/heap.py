"""The heap kept out of the garbage collector's way while the TUI runs.

Full collections walk every object alive; after the models, indexes and libraries are
loaded that is a large heap, and a collection stalled a pane switch by ~100 ms now and
then (measured: spikes of 116-164 ms among 20-60 ms switches, none with the collector off).
"""

from __future__ import annotations

import gc


def freeze_heap() -> None:
    """Move everything alive now (the models, indexes and libraries just loaded) out of the
    collector's reach. Called once the services are open, and again once the chat has
    loaded litellm."""
    gc.collect()
    gc.freeze()


def thaw_heap() -> None:
    """Frozen objects are never finalised: give them back at close so native libraries shut
    down cleanly (else nanobind reports "leaked" objects on the terminal at exit)."""
    gc.unfreeze()
