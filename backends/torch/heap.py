"""Where a compiled model's temporaries come from: nothing in, the C allocator's threshold for
fresh kernel pages raised once out.

glibc's ``malloc`` serves a block above its mmap threshold (128 KiB at start) with fresh pages
from the kernel and returns them on ``free``, so every call that makes such a block pays a page
fault per 4 KiB touched. A forward plan's temporaries at batch 1,000 are a few hundred KiB to a
few MiB: in a fresh process every ``run()`` mapped and faulted them anew, and took twice the CPU
time (sort_unique at batch 1,000, length 8, one thread: 6.2 ms against 2.8 ms). glibc raises
the threshold to the size of a mapped block when it is freed (up to 32 MiB), so freeing one
16 MiB block once makes blocks up to that size come from the heap and be reused; the heap then
keeps up to twice that much free memory instead of returning it. Other allocators ignore this.
"""

from __future__ import annotations

import torch

# One block just under glibc's largest dynamic threshold (32 MiB on 64-bit systems).
RAISING_BLOCK_BYTES = 16 << 20

_raised = False


def keep_temporaries_on_heap() -> None:
    """Free one :data:`RAISING_BLOCK_BYTES` block, once per process (see the module
    docstring)."""
    global _raised
    if _raised:
        return
    block = torch.empty(RAISING_BLOCK_BYTES, dtype=torch.uint8)
    del block
    _raised = True
