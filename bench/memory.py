"""Memory per idle thread (issue 10): what one waiting thread costs, measured with
tracemalloc.

Starts N System threads that each wait for ever on one notification event, runs them
into their waits, and divides the memory allocated since just before the threads were
started by N. Reported with the trace on (the default: each thread's blocking step
adds one trace record) and off (the thread, its generator, its wait block and the
ready-queue and bookkeeping entries only). Informative only: it always exits 0.

    python bench/memory.py                 # 10,000 threads
    python bench/memory.py --threads 100000
"""
from __future__ import annotations

import argparse
import gc
import sys
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def idle(k, event):
    from evtsim.api.kernel import Executive, KernelMode
    yield k.KeWaitForSingleObject(event, Executive, KernelMode, False, None)


def bytes_per_idle_thread(threads: int, trace: bool = True) -> float:
    """Bytes allocated per thread for `threads` System threads waiting on one event."""
    from evtsim import Machine
    from evtsim.api.kernel import NotificationEvent
    m = Machine(trace=trace)
    event = m.kernel.KeInitializeEvent(NotificationEvent, False, name="Never")
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(threads):
            m.system.start(idle, event, name=f"idle{i}")
        result = m.run(max_steps=threads + 1)
        assert result.reason == "deadlock", result.reason
        assert len(event.wait_list) == threads
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / threads


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=10_000)
    args = parser.parse_args(argv)
    print(f"memory per idle (waiting) thread, {args.threads:,} threads, tracemalloc:")
    for trace in (True, False):
        per = bytes_per_idle_thread(args.threads, trace)
        label = "trace on " if trace else "trace off"
        print(f"  {label}: {per:,.0f} bytes/thread ({per / 1024:.2f} KiB); "
              f"{per * 100_000 / 2 ** 20:,.0f} MiB for 100,000 threads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
