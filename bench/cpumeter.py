"""CPU time a benchmark run costs, read from Linux's /proc: the whole machine, and per named
process tree (gunicorn's workers, the PostgreSQL server's processes, the load generator).

Throughput says how fast; CPU time per operation says where the time goes (the application, the
database, the load generator). `ceiling` turns one part's CPU per operation into the rate that
part alone would allow with every core to itself.
"""

from __future__ import annotations

import contextlib
import os
import resource
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # the name in parentheses may hold spaces


def process_cpu_s(pid: int, *, reaped_children: bool = False) -> float:
    """User + system CPU seconds of one process so far (0 if it is gone); with
    `reaped_children`, plus those of its children that have ended and been waited for."""
    fields = _stat_fields(pid)
    if not fields:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(int(stat.parent.name))
        if fields and int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def parent_of(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None


def machine_busy_s() -> float:
    """CPU seconds all cores spent busy since boot (user, nice, system, irq, softirq)."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq = map(int, stat.readline().split()[1:8])
    return (user + nice + system + irq + softirq) / TICK


def children_cpu_s() -> float:
    """CPU seconds of this process's finished, waited-for children (a load generator)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Tree:
    """A process and its children: gunicorn's master and workers, a postmaster and its
    backends. The children that ended count too, through the root's own tally of them (a
    pgbench run's backends end with it), once the root has waited for them."""

    def __init__(self, root: int) -> None:
        self.root = root

    def cpu_s(self) -> float:
        running = sum(process_cpu_s(pid) for pid in children(self.root))
        return process_cpu_s(self.root, reaped_children=True) + running


@contextlib.contextmanager
def measure(trees: dict[str, Tree], *, with_children: str | None = None):
    """Yields a dict that, after the block, holds CPU seconds used during it: `machine`, one
    entry per tree, and `with_children` (e.g. "wrk") for children waited for inside it."""
    used: dict[str, float] = {}
    before = {name: tree.cpu_s() for name, tree in trees.items()}
    machine, waited = machine_busy_s(), children_cpu_s()
    yield used
    used["machine"] = machine_busy_s() - machine
    for name, tree in trees.items():
        used[name] = tree.cpu_s() - before[name]
    if with_children:
        used[with_children] = children_cpu_s() - waited


def per_op_ms(used: dict[str, float], ops: float, prefix: str) -> dict[str, float]:
    """`{prefix}_{part}_cpu_ms`: CPU milliseconds per operation of each measured part."""
    if ops <= 0:
        return {}
    return {f"{prefix}_{part}_cpu_ms": round(s * 1000 / ops, 3) for part, s in used.items()}


def ceiling(cpu_ms: float) -> float:
    """Operations per second one part would allow if it had every core and nothing else ran."""
    return round((os.cpu_count() or 1) * 1000 / cpu_ms, 1) if cpu_ms > 0 else float("inf")
