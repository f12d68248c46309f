#!/usr/bin/env python3
"""Writes the synthetic golden traces in this directory (see README.md).

Run from anywhere: python3 tests/traces/generate.py. Deterministic: a fixed seed per trace,
so running it again rewrites the same bytes. After changing a trace, regenerate the expected
timelines with WSLGO_UPDATE_GOLDEN=1 (README.md says how) and read the diff.
"""
import json
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
MEM_TOTAL = 12 * GIB  # a WSL2 VM with 12 GiB: the default thresholds are 20/30/40% = 2.4/3.6/4.8 GiB
STEP = 2  # seconds between samples, the guard's sample_interval


def snapshot(t, available, workspaces, some=0.0, full=0.0):
    return {
        "type": "snapshot",
        "t_us": int(t * 1_000_000),
        "system": {
            "mem_total": MEM_TOTAL,
            "mem_available": int(available),
            "psi_some_avg10": round(some, 2),
            "psi_full_avg10": round(full, 2),
        },
        "workspaces": workspaces,
    }


def workspace(wid, current, inactive_file=None, rss=None, unit="active", n_restarts=0,
              heap=None, rungs=None, process_since=None):
    """One workspace of a snapshot. `rungs` (a dict of gc/trim/restart) is left out when all can
    work; `process_since` is in seconds, when the daemon first saw the gopls process."""
    entry = {"id": wid, "memory_current": int(current)}
    if inactive_file is not None:
        entry["inactive_file"] = int(inactive_file)
    entry["rss"] = int(rss if rss is not None else current * 0.92)
    if heap is not None:
        entry["heap_in_use"] = int(heap)
    entry["unit"] = unit
    entry["n_restarts"] = n_restarts
    if rungs is not None:
        entry["rungs"] = rungs
    if process_since is not None:
        entry["process_since_us"] = int(process_since * 1_000_000)
    return entry


def write(name, lines):
    with open(os.path.join(HERE, name + ".jsonl"), "w") as out:
        for line in lines:
            out.write(json.dumps(line, separators=(",", ":")) + "\n")


def leak():
    """gopls leaking steadily: 1.2 GiB to 6 GiB over 40 minutes. GC hardly helps (it is a
    leak), a trim frees 3%; a restart brings it back to 1.2 GiB, and the leak goes on."""
    rng = random.Random(4001)
    lines = [{"type": "model", "gc_frees": 0.04, "trim_frees": 0.03, "restart_to": int(1.2 * GIB)}]
    for i in range(40 * 60 // STEP + 1):
        t = i * STEP
        current = 1.2 * GIB + (4.8 * GIB) * t / 2400 + rng.uniform(-8, 8) * MIB
        inactive = 60 * MIB + rng.uniform(0, 10) * MIB
        lines.append(snapshot(t, MEM_TOTAL - 2.5 * GIB - current, [
            workspace("/home/dev/leaky", current, inactive)], some=rng.uniform(0, 1.5)))
    write("leak", lines)


def go_build():
    """`go build ./...` at minute 2 fills the page cache charged to the workspace: memory.current
    rises by 4.5 GiB, almost all of it inactive file cache; anon memory stays flat. With
    exclude_inactive_file (the default) nothing happens."""
    rng = random.Random(4002)
    lines = []
    cache = 150 * MIB
    for i in range(8 * 60 // STEP + 1):
        t = i * STEP
        if 120 <= t < 210:
            cache += 4.5 * GIB / 45  # 90 s of build
        elif t >= 210:
            cache *= 0.998  # the kernel slowly reclaims it
        anon = 1.4 * GIB + rng.uniform(-10, 10) * MIB
        active_file = 80 * MIB
        current = anon + active_file + cache
        lines.append(snapshot(t, MEM_TOTAL - 2.5 * GIB - anon, [
            workspace("/home/dev/app", current, cache, rss=anon + 40 * MIB)],
            some=rng.uniform(0, 3)))
    write("go_build", lines)


def pressure():
    """Another process (a container build) eats memory while three gopls are calm. The system
    runs low (MemAvailable below 15% then 10% of MemTotal, PSI up); relief picks the largest
    workspace, but not /home/dev/monorepo, which the trace's config marks important."""
    rng = random.Random(4003)
    lines = [{"type": "model", "gc_frees": 0.15, "trim_frees": 0.1, "restart_to": int(0.5 * GIB)}]
    sizes = {"/home/dev/api": 1.6 * GIB, "/home/dev/monorepo": 2.1 * GIB, "/home/dev/tools": 0.9 * GIB}
    for i in range(15 * 60 // STEP + 1):
        t = i * STEP
        if t < 120:
            other = 2.0 * GIB
        elif t < 300:
            other = 2.0 * GIB + 3.6 * GIB * (t - 120) / 180
        elif t < 600:
            other = 5.6 * GIB
        else:
            other = max(2.0 * GIB, 5.6 * GIB - 3.6 * GIB * (t - 600) / 60)
        gopls = [workspace(w, s + rng.uniform(-5, 5) * MIB, 50 * MIB) for w, s in sorted(sizes.items())]
        used = other + sum(s for s in sizes.values())
        available = MEM_TOTAL - 0.8 * GIB - used
        squeeze = max(0.0, (2.5 * GIB - available) / GIB)
        lines.append(snapshot(t, available, gopls, some=min(80, 30 * squeeze) + rng.uniform(0, 1),
                              full=min(40, 8 * squeeze) + rng.uniform(0, 0.5)))
    write("pressure", lines)


def crash_loop():
    """gopls crashes about once a minute on a broken go.work: systemd restarts it (NRestarts
    rises, the unit is activating for one sample). In the later cycles it also balloons to
    critical within seconds before crashing: the guard must not add restarts of its own to the
    loop, so it trims instead. At minute
    9 the go.work is fixed and the unit runs quietly; 30 minutes later the loop is over."""
    rng = random.Random(4004)
    lines = [{"type": "model", "gc_frees": 0.02, "trim_frees": 0.05}]
    restarts = 0
    cycle_start = 0
    for i in range(42 * 60 // STEP + 1):
        t = i * STEP
        broken = t < 9 * 60
        age = t - cycle_start
        if broken and age >= 60:
            restarts += 1
            cycle_start = t
            lines.append(snapshot(t, 8 * GIB, [workspace("/home/dev/broken", 40 * MIB, 5 * MIB,
                                                         unit="activating", n_restarts=restarts)]))
            continue
        balloon = restarts >= 5 and broken
        top = 5.2 * GIB if balloon else 1.1 * GIB
        ramp = 4 if balloon else 40
        current = 300 * MIB + (top - 300 * MIB) * min(1.0, age / ramp) + rng.uniform(-5, 5) * MIB
        lines.append(snapshot(t, MEM_TOTAL - 2 * GIB - current, [
            workspace("/home/dev/broken", current, 30 * MIB, n_restarts=restarts)]))
    write("crash_loop", lines)


def hover():
    """A workspace hovering at the 2.4 GiB warning line. First it crosses the line every 4s
    (never above for the 10s sustain): no level. Then it sits just above: warning, and a GC
    that frees only 4%. Below the line again, but not below 2.16 GiB (10% hysteresis), the
    level holds; it clears at minute 18 when memory drops for real."""
    rng = random.Random(4005)
    lines = [{"type": "model", "gc_frees": 0.04, "trim_frees": 0.1, "restart_to": int(0.8 * GIB)}]
    for i in range(20 * 60 // STEP + 1):
        t = i * STEP
        if t < 600:
            current = 2.4 * GIB + (30 if (t // 4) % 2 == 0 else -30) * MIB + rng.uniform(-3, 3) * MIB
        elif t < 900:
            current = 2.46 * GIB + 20 * MIB * math.sin(t / 30) + rng.uniform(-3, 3) * MIB
        elif t < 1080:
            current = 2.32 * GIB + 20 * MIB * math.sin(t / 30) + rng.uniform(-3, 3) * MIB
        else:
            current = 2.0 * GIB + rng.uniform(-3, 3) * MIB
        lines.append(snapshot(t, MEM_TOTAL - 2.5 * GIB - current, [
            workspace("/home/dev/hover", current + 40 * MIB, 40 * MIB)]))
    write("hover", lines)


def gc_nothing():
    """gopls at 3.8 GiB (high) after loading a big module graph: a GC frees nothing (it is all
    live), so the guard trims at once instead of waiting the 30s settle time."""
    rng = random.Random(4006)
    lines = [{"type": "model", "gc_frees": 0.0, "trim_frees": 0.25, "restart_to": int(0.8 * GIB)}]
    for i in range(5 * 60 // STEP + 1):
        t = i * STEP
        current = (1.0 * GIB + 2.8 * GIB * t / 60) if t < 60 else 3.8 * GIB
        current += rng.uniform(-4, 4) * MIB
        lines.append(snapshot(t, MEM_TOTAL - 2.5 * GIB - current, [
            workspace("/home/dev/bigmod", current + 70 * MIB, 70 * MIB)]))
    write("gc_nothing", lines)


def gc_heap():
    """gopls already holds 3.8 GiB (high) when the guard starts watching it, 2.6 GiB of it Go
    heap. A GC frees 40% of the heap at once, but Go hands the freed pages back to the system
    only slowly: by the time the GC is judged, memory has fallen by just 4%. The heap fell, so
    the GC was effective (no "ineffective"), and the trim, the next rung at the same level,
    waits the 30s settle time from the GC's outcome. Contrast gc_nothing: there the GC frees
    nothing, its outcome quotes no heap (the model has no gc_heap_frees), so it is judged
    ineffective and the trim follows at once."""
    rng = random.Random(4007)
    lines = [{"type": "model", "gc_frees": 0.04, "gc_heap_frees": 0.4, "trim_frees": 0.25,
              "restart_to": int(0.8 * GIB)}]
    for i in range(3 * 60 // STEP + 1):
        t = i * STEP
        current = 3.8 * GIB + rng.uniform(-4, 4) * MIB
        heap = 2.6 * GIB + rng.uniform(-4, 4) * MIB
        lines.append(snapshot(t, MEM_TOTAL - 2.5 * GIB - current, [
            workspace("/home/dev/services", current + 70 * MIB, 70 * MIB, heap=heap)]))
    write("gc_heap", lines)


def no_trim():
    """A slow leak on the development VM: hybrid cgroups (no memory.reclaim) and Debian's gopls
    (no file cache), so the daemon says trim cannot work here (`rungs`). GC at warning (4%,
    ineffective); at high the guard goes straight to the restart, and its reason says the trim
    was skipped. No trim, ever, and none spent: nothing waits for it."""
    rng = random.Random(4008)
    lines = [{"type": "model", "gc_frees": 0.04, "trim_frees": 0.25, "restart_to": int(1.0 * GIB)}]
    rungs = {"gc": True, "trim": False, "restart": True}
    for i in range(20 * 60 // STEP + 1):
        t = i * STEP
        current = 1.6 * GIB + 2.4 * GIB * t / 1200 + rng.uniform(-6, 6) * MIB
        lines.append(snapshot(t, MEM_TOTAL - 2.5 * GIB - current, [
            workspace("/home/dev/svc", current + 50 * MIB, 50 * MIB, rungs=rungs)],
            some=rng.uniform(0, 1.5)))
    write("no_trim", lines)


# The guard restarts over_budget's first process at 0:32 (over_budget.expected). The trace
# cannot know that, so the model's restart_to stands for the new process until NEW_PROCESS, when
# the trace shows it with its own figures: late enough that a small shift of the restart does
# not break the story, early enough that its reload falls within the 2 min reload window.
NEW_PROCESS = 50


def over_budget():
    """A workspace whose loaded size is over its critical line: gopls loads it to 5.3 GiB in
    24 s, the guard runs gc (warning), trim (high) and restarts it at critical. The model brings
    memory to 600 MiB; from NEW_PROCESS on the trace shows the new process (process_since_us)
    with its own figures: it loads the same 5.3 GiB in 24 s, past the 4.80 GiB line within the
    2 min reload window. One over-budget decision; from then on only GC runs. The memory is live,
    so a GC gives back 1% of it, but it frees 15% of the heap (type-checking garbage): effective,
    so it is repeated after each 1 min cooldown, and the workspace stays critical (the model
    lowers the heap for good, so its figure shrinks from GC to GC). The trace runs past the
    restart's 10 min cooldown: the guard never restarts it again."""
    rng = random.Random(4009)
    lines = [{"type": "model", "gc_frees": 0.01, "gc_heap_frees": 0.15, "trim_frees": 0.03,
              "restart_to": int(0.6 * GIB), "restart_heap_to": int(0.2 * GIB)}]
    for i in range(12 * 60 // STEP + 1):
        t = i * STEP
        since = 0 if t < NEW_PROCESS else NEW_PROCESS
        age = t - since
        current = 0.4 * GIB + 4.9 * GIB * min(1.0, age / 24) + rng.uniform(-4, 4) * MIB
        heap = current * 0.55
        lines.append(snapshot(t, MEM_TOTAL - 2.5 * GIB - current, [
            workspace("/home/dev/platform", current + 60 * MIB, 60 * MIB, heap=heap,
                      process_since=since)]))
    write("over_budget", lines)


if __name__ == "__main__":
    leak()
    go_build()
    pressure()
    crash_loop()
    hover()
    gc_nothing()
    gc_heap()
    no_trim()
    over_budget()
