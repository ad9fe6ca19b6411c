"""Start a notebook kernel under a memory limit: ``python -m analysis.kernel_launcher MB -- CMD...``.

Sets ``RLIMIT_AS`` (the process's address space) to ``MB`` megabytes, unless ``MB`` is 0, then
replaces itself with ``CMD`` (the kernel), which keeps the same process id. The limit needs no
root and no cgroups; an allocation beyond it fails (Python raises ``MemoryError``) instead of the
machine running out of memory. Kept tiny: it imports nothing from ``analysis`` or its dependencies.
"""

from __future__ import annotations

import os
import resource
import sys


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: python -m analysis.kernel_launcher MEGABYTES -- KERNEL COMMAND...")
    megabytes = int(argv[0])
    if megabytes > 0:
        limit = megabytes * 1024 * 1024
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard if hard != resource.RLIM_INFINITY else limit))
    os.environ["ANALYSIS_KERNEL_MEMORY_LIMIT_MB"] = str(megabytes)
    command = argv[2:]
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
