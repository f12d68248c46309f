"""The guard over a long run (issue #13, "Soak"), inside a private user manager (run by bench/soak).

One workspace (tests/e2e/fixtures/hello) whose memory rises and falls across its thresholds on a
cycle, so the ladder acts again and again:

  high     a ballast process in the unit's cgroup takes the workspace 100 MiB past `high`:
           gc (ineffective: the ballast is not gopls' heap), trim, restart; the restart kills
           the ballast with the unit's cgroup (held at most HIGH_HOLD s if it is not restarted)
  quiet    QUIET s with no ballast
  warning  a ballast halfway between `warning` and `high` for WARNING_HOLD s: one gc, then the
           level clears when the ballast exits
  quiet    QUIET s again

The thresholds sit 100 and 200 MiB above what gopls holds: the most of its cgroup's figure
over a minute after a Restart the soak asks for first (at least REST_FLOOR), since a gopls the
ladder restarted sometimes held several times what the first one did.

The ballast is python3 writing N MiB, moved into every cgroup of gopls (the unit's v1 memory
cgroup among them: the workspace's figure as root on a hybrid host) before it allocates, so
the memory is charged to the unit.

Every SAMPLE_EVERY s it writes the guard's figures (VmRSS and RssAnon, Pss and USS from
smaps_rollup, open descriptors, timerfds among them, threads), GetStatus' answer time and the
workspace's state to a CSV file. The start figures are taken at the end of the first cycle that
ends after the warm-up (WSLGO_BENCH_SOAK_WARMUP s, 360 by default: three cycles; in two runs the
guard's VmRSS stood 130-160 KiB lower at the end of the first cycle than at any later one), once
the ladder has allocated what it needs; the end figures at the end of the first cycle that ends
WSLGO_BENCH_SOAK_MINUTES minutes later, so both are taken at the same point of a cycle (quiet).
Every measured cycle ends with such a sample too. A cycle end's VmRSS and RssAnon are the means
of 1 s samples over its last quiet phase, one whole period of the guard's heap trim (see
TRIM_PERIOD); the one sample at that moment and the least of the period are printed beside them.
VmRSS is judged on the mean of the first JUDGE_CYCLES cycle ends against the mean of the last
JUDGE_CYCLES: one sample moved by up to 88 KiB (1.1 %) from one cycle end to the next in an
hour's run, more than the goal allows, so a single start and end sample would judge that noise,
not a trend. The least-squares slope over all cycle ends is printed beside it.
Fails when the guard restarted, GetStatus does not answer at the end, the workspace is not
guarded (unit active, state neither degraded, over-budget nor failed), no gc or no restart was
taken while measured, VmRSS grew by 1 % or more (those means), or descriptors, timerfds or
threads grew at all from the start sample to the end one.
"""

import collections
import csv
import os
import subprocess
import sys
import time

from harness import cgroups
from harness import session as s

MINUTES = float(os.environ.get("WSLGO_BENCH_SOAK_MINUTES", "60"))
WARMUP = float(os.environ.get("WSLGO_BENCH_SOAK_WARMUP", "360"))
LOG = (os.environ.get("WSLGO_BENCH_SOAK_LOG")
       or time.strftime("/tmp/wslgo-soak-%Y%m%dT%H%M%SZ.csv", time.gmtime()))
SAMPLE_EVERY = 60.0
GOAL_PERCENT = 1.0
JUDGE_CYCLES = 5  # cycle-end samples averaged at each end (about 10 minutes)

MIB = 1 << 20
WARNING_ABOVE_BASE = 100 * MIB  # warning and high, above what gopls holds at rest
HIGH_ABOVE_BASE = 200 * MIB
REST_FLOOR = 160 * MIB  # the least "what gopls holds" is taken as (see Soak.run)
HIGH_HOLD = 60.0
WARNING_HOLD = 45.0
QUIET = 30.0
# The guard hands its heap's free pages back every 30 s (daemon/main.cpp, kHeapTrimInterval) and
# its 1 s ticks touch some again between two trims: VmRSS swings by up to ~130 KiB within one
# period. A single sample every 2 min drifts slowly against that timer, so it shows the phase,
# not a trend (an hour's run "grew" 1.04 % by such samples while the heap's Rss after every
# trim stayed at 284-296 KiB). The figure of a cycle end is the mean over one whole trim
# period of 1 s samples taken in the cycle's last quiet phase, whatever its phase.
TRIM_PERIOD = 30.0
assert QUIET >= TRIM_PERIOD, "the last quiet phase of a cycle must span one trim period"

def soak_config(warning, high):
    """Short cooldowns and settle, a small sustain and room for a restart every cycle, so the
    ladder acts many times an hour; critical off, so the engine climbs rung by rung."""
    return {
        "guard": {"sample_interval": "1s", "fast_sample_interval": "250ms",
                  "heap_interval": "5s"},
        "workspaces": {"default": {
            # The ballast is sized against the raw cgroup figure; page cache then counts too.
            "memory": {"warning": warning, "high": high, "critical": None, "sustain": "1s",
                       "hysteresis": 0.1, "exclude_inactive_file": False},
        }},
        "actions": {
            "settle": "5s",
            "gc": {"cooldown": "20s"},
            "trim": {"cooldown": "30s"},
            "restart": {"cooldown": "2m", "max_restarts": 100, "window": "30m",
                        "save_profile": True, "reload_window": "1m"},
        },
    }


BALLAST = r"""
import sys, time
mib, hold = int(sys.argv[1]), float(sys.argv[2])
sys.stdin.readline()              # moved into the unit's cgroups by now
ballast = b"\x01" * (mib << 20)   # written, so resident and charged to that cgroup
print("up", flush=True)
time.sleep(hold)
"""


def say(text):
    print(text, flush=True)


class Ballast:
    """N MiB held for `hold` s by a process in the cgroups of `pid` (the unit's gopls)."""

    def __init__(self, mib, hold, pid):
        self.process = subprocess.Popen([sys.executable, "-c", BALLAST, str(mib), str(hold)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        with open("/proc/self/mountinfo") as f:
            hierarchies = cgroups.parse_mountinfo(f.read())
        with open(f"/proc/{pid}/cgroup") as f:
            paths = cgroups.parse_proc_cgroup(f.read())
        moved = []
        for h in hierarchies:
            if h.key not in paths:
                continue
            procs = os.path.join(h.directory(paths[h.key]), "cgroup.procs")
            with open(procs, "w") as f:
                f.write(str(self.process.pid))
            moved.append(procs)
        if not any("memory" in p for p in moved):
            raise AssertionError(f"gopls ({pid}) has no memory cgroup: {paths}")
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        if self.process.stdout.readline().strip() != "up":
            raise AssertionError(f"the ballast of {mib} MiB did not come up")

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        if self.alive():
            self.process.kill()
        self.process.wait()
        self.process.stdin.close()
        self.process.stdout.close()


def guard_figures(pid):
    """The guard's process as seen from outside: KiB, counts."""
    figures = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key == "VmRSS":
                figures["vmrss_kib"] = int(value.split()[0])
            elif key == "RssAnon":
                figures["rssanon_kib"] = int(value.split()[0])
            elif key == "Threads":
                figures["threads"] = int(value)
    rollup = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                rollup[parts[0].rstrip(":")] = int(parts[1])
    figures["pss_kib"] = rollup.get("Pss", 0)
    figures["uss_kib"] = rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0)
    kinds = collections.Counter()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue  # closed meanwhile
        kind = target.split(":[")[0] if target.startswith(("socket:", "pipe:")) else target
        kinds[kind if target.startswith(("socket:", "pipe:", "anon_inode:")) else "file"] += 1
    figures["fds"] = sum(kinds.values())
    figures["timerfds"] = kinds.get("anon_inode:[timerfd]", 0)
    figures["fd_kinds"] = dict(kinds)
    return figures


class Soak:
    def __init__(self):
        self.root = s.copy_fixture_module("hello")
        self.guard_pid = s.enable_guard()
        self.monitor = s.SignalMonitor(f"type='signal',interface='{s.WORKSPACE_IFACE}'")
        self.obj, self.unit, self.socket = s.add_and_wait(self.root)
        self.started = time.monotonic()
        self.last_sample = -SAMPLE_EVERY
        self.phase = "setup"
        self.cycle = 0
        self.status_failures = 0
        self.slowest_status = 0.0
        self.gopls_pids = set()
        self.quiet_rss = []
        self.log = open(LOG, "w", newline="")
        self.csv = csv.writer(self.log)
        self.csv.writerow(["utc", "elapsed_s", "cycle", "phase", "guard_pid", "vmrss_kib",
                           "rssanon_kib", "pss_kib", "uss_kib", "fds", "timerfds", "threads",
                           "getstatus_ms", "workspace_state", "workspace_mib", "gopls_pid", "gc",
                           "trim", "restart", "fd_kinds", "vmrss_period_kib",
                           "vmrss_period_min_kib", "rssanon_period_kib"])

    # Figures

    def usage(self):
        """The workspace's memory as the guard judges it here: the unit's cgroup figure."""
        control_group = s.unit_property(self.unit, "ControlGroup")
        return s.read_int(s.cgroup_memory_file(control_group))

    def actions(self):
        return collections.Counter(data[0] for path, data in self.monitor.signals("ActionTaken")
                                   if path == self.obj)

    def sample(self, label=None):
        """One row of the CSV; returns the guard's figures."""
        guard_pid = int(s.unit_property(s.GUARD, "MainPID"))
        figures = guard_figures(guard_pid)
        # A cycle end's figures over the trim period just before it (see TRIM_PERIOD).
        period = self.quiet_rss if label is not None and self.quiet_rss else [
            (figures["vmrss_kib"], figures["rssanon_kib"])]
        figures["vmrss_period_kib"] = round(mean(v for v, _ in period))
        figures["vmrss_period_min_kib"] = min(v for v, _ in period)
        figures["rssanon_period_kib"] = round(mean(a for _, a in period))
        asked = time.monotonic()
        try:
            workspace = s.workspace_status(self.root)
            state, memory = workspace["state"], workspace["memory_current"]
            gopls_pid = workspace["main_pid"]
        except (s.CommandFailed, AssertionError, KeyError) as e:
            self.status_failures += 1
            state, memory, gopls_pid = f"GetStatus failed: {e}".replace("\n", " "), None, 0
        answered = (time.monotonic() - asked) * 1000
        self.slowest_status = max(self.slowest_status, answered)
        self.gopls_pids.add(gopls_pid)
        counts = self.actions()
        self.csv.writerow([time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                           f"{time.monotonic() - self.started:.0f}", self.cycle,
                           label or self.phase, guard_pid, figures["vmrss_kib"],
                           figures["rssanon_kib"], figures["pss_kib"], figures["uss_kib"],
                           figures["fds"], figures["timerfds"], figures["threads"],
                           f"{answered:.0f}", state,
                           f"{memory / MIB:.0f}" if memory else "", gopls_pid, counts["gc"],
                           counts["trim"], counts["restart"],
                           " ".join(f"{k}={v}" for k, v in sorted(figures["fd_kinds"].items())),
                           figures["vmrss_period_kib"], figures["vmrss_period_min_kib"],
                           figures["rssanon_period_kib"]])
        self.log.flush()
        figures["guard_pid"] = guard_pid
        figures["at"] = time.monotonic()
        return figures

    def pause(self, seconds, ballast=None, rss=None):
        """Waits `seconds` (less if the ballast dies), sampling every SAMPLE_EVERY s; appends
        the guard's (VmRSS, RssAnon) to `rss` every second if given."""
        deadline = time.monotonic() + seconds
        guard_pid = int(s.unit_property(s.GUARD, "MainPID")) if rss is not None else 0
        while time.monotonic() < deadline:
            if time.monotonic() - self.last_sample >= SAMPLE_EVERY:
                self.last_sample = time.monotonic()
                self.sample()
            if ballast is not None and not ballast.alive():
                return
            if rss is not None:
                figures = guard_figures(guard_pid)
                rss.append((figures["vmrss_kib"], figures["rssanon_kib"]))
            time.sleep(1)

    # The cycle

    def gopls_pid(self):
        """The running gopls once the unit is active again (after a restart, say)."""
        s.wait_active(self.unit, 120)
        return s.wait_until(lambda: int(s.unit_property(self.unit, "MainPID")), 60,
                            f"a MainPID for {self.unit}")

    def hold(self, phase, target, seconds):
        """The workspace at `target` bytes for `seconds`, or until the unit restarts."""
        self.phase = phase
        pid = self.gopls_pid()
        mib = max(16, (target - self.usage()) // MIB)
        ballast = Ballast(mib, seconds, pid)
        try:
            self.pause(seconds + 1, ballast)
        finally:
            ballast.stop()

    def quiet(self, rss=None):
        self.phase = "quiet"
        self.pause(QUIET, rss=rss)

    def one_cycle(self):
        self.cycle += 1
        self.hold("high", self.high + 100 * MIB, HIGH_HOLD)
        self.quiet()
        self.hold("warning", (self.warning + self.high) // 2, WARNING_HOLD)
        self.quiet_rss = []
        self.quiet(self.quiet_rss)

    def run(self):
        # What gopls holds: the most over a minute after a restart. A gopls restarted (by the
        # ladder) holds several times what the first one did at rest for a minute or more
        # (seen: 17 MiB for the first, 115-130 MiB after a restart, v0.23.0 on `hello`); the
        # thresholds must sit above both, or the quiet phases would not be quiet.
        s.wait_until(lambda: (s.workspace_status(self.root).get("gopls")
                              and s.workspace_status(self.root)["memory_current"]), 60,
                     "GetStatus to show gopls and its memory")
        readings = [self.usage()]
        s.call("Restart", "s", "bench/soak: what a restarted gopls holds", path=self.obj,
               interface=s.WORKSPACE_IFACE, timeout=120)
        self.gopls_pid()
        for _ in range(30):
            time.sleep(2)
            try:
                readings.append(self.usage())
            except (OSError, s.CommandFailed):
                pass  # the unit's cgroup between two gopls
        # That transient did not come every time; the floor keeps the thresholds above it.
        base = max(readings + [REST_FLOOR])
        say(f"soak: gopls before its restart {readings[0] / MIB:.0f} MiB, the most in the "
            f"minute after {max(readings[1:] or [0]) / MIB:.0f} MiB; thresholds above "
            f"{base / MIB:.0f} MiB (at least {REST_FLOOR / MIB:.0f})")
        self.warning, self.high = base + WARNING_ABOVE_BASE, base + HIGH_ABOVE_BASE
        s.write_user_config(soak_config(self.warning, self.high))
        s.systemctl("reload", s.GUARD)
        s.wait_until(lambda: s.workspace_status(self.root)["limits"]["high"] == self.high, 30,
                     "GetStatus to show the soak's thresholds")
        say(f"soak: warning {self.warning / MIB:.0f} MiB, "
            f"high {self.high / MIB:.0f} MiB; per-minute samples in {LOG}")
        first = self.sample("before warm-up")

        while self.cycle == 0 or time.monotonic() - self.started < WARMUP:
            self.one_cycle()
        start = self.sample("start")
        start_at, start_actions = time.monotonic(), self.actions()
        say(f"soak: warm-up over after {self.cycle} cycle(s), "
            f"{(start_at - self.started) / 60:.1f} min; measuring {MINUTES:g} min")
        cycle_ends = [start]
        while time.monotonic() - start_at < MINUTES * 60:
            self.one_cycle()
            if time.monotonic() - start_at < MINUTES * 60:
                cycle_ends.append(self.sample("cycle end"))
        end = self.sample("end")
        cycle_ends.append(end)
        end_at = time.monotonic()
        return first, cycle_ends, start_at, end_at, start_actions

    def report(self, first, cycle_ends, start_at, end_at, start_actions):
        problems = []
        start, end = cycle_ends[0], cycle_ends[-1]
        signals = self.monitor.signals("ActionTaken")
        by_result = collections.Counter(f"{d[0]} {d[1]}" for p, d in signals if p == self.obj)
        counts = self.actions()
        measured = counts - start_actions
        others = collections.Counter(m.get("member") for m in self.monitor.seen
                                     if m.get("member") not in ("ActionTaken", None))
        try:
            workspace = s.workspace_status(self.root)
        except (s.CommandFailed, AssertionError) as e:
            workspace = None
            problems.append(f"GetStatus does not answer at the end: {e}")
        errors = [e.get("MESSAGE", "") for e in s.journal("-p", "err")]

        say("")
        say(f"soak: {(end_at - start_at) / 60:.1f} min measured, after a warm-up of "
            f"{(start_at - self.started) / 60:.1f} min ({self.cycle} cycles in all)")
        say(f"soak: start figures taken at the end of the first cycle ending after {WARMUP:.0f} s "
            f"of warm-up, whose actions were {dict(sorted(start_actions.items()))}")
        say(f"soak: actions while measured: {dict(sorted(measured.items()))}; in all: "
            f"{dict(sorted(counts.items()))}")
        say(f"soak: outcomes in all: {dict(sorted(by_result.items()))}")
        say(f"soak: other workspace signals: {dict(sorted(others.items()))}")
        say(f"soak: gopls processes: {len(self.gopls_pids - {0})}; GetStatus slowest "
            f"{self.slowest_status:.0f} ms, failed {self.status_failures} time(s); guard "
            f"journal lines at priority err or worse: {len(errors)}")
        window = max(1, min(JUDGE_CYCLES, len(cycle_ends) // 2))
        say(f"soak: {len(cycle_ends)} cycle-end samples while measured; 'first {window}' and "
            f"'last {window}' are their means at each end, 'slope' the least-squares trend "
            f"over all of them")
        say("")
        say(f"{'guard (pid ' + str(end['guard_pid']) + ')':<16}{'before warm-up':>16}"
            f"{'start':>9}{'end':>9}{'growth':>9}{'first ' + str(window):>10}"
            f"{'last ' + str(window):>10}{'growth':>9}{'slope/h':>10}")
        for key, label in (("vmrss_period_kib", "VmRSS KiB"),
                           ("vmrss_period_min_kib", "VmRSS min KiB"),
                           ("vmrss_kib", "VmRSS now KiB"),
                           ("rssanon_period_kib", "RssAnon KiB"),
                           ("pss_kib", "Pss KiB"),
                           ("uss_kib", "USS KiB"), ("fds", "fds"), ("timerfds", "timerfds"),
                           ("threads", "threads")):
            growth = percent(start[key], end[key])
            head = mean(e[key] for e in cycle_ends[:window])
            tail = mean(e[key] for e in cycle_ends[-window:])
            mean_growth = percent(head, tail)
            slope = hourly_slope(cycle_ends, key)
            say(f"{label:<16}{first[key]:>16}{start[key]:>9}{end[key]:>9}{growth:>8.2f}%"
                f"{head:>10.0f}{tail:>10.0f}{mean_growth:>8.2f}%{slope:>+10.0f}")
            if key == "vmrss_period_kib" and mean_growth >= GOAL_PERCENT:
                problems.append(f"{label} grew {mean_growth:.2f} % (mean of the first {window} "
                                f"cycle ends {head:.0f}, of the last {window} {tail:.0f})")
            if key in ("fds", "timerfds", "threads") and end[key] > start[key]:
                problems.append(f"{label} grew from {start[key]} to {end[key]}")
        say(f"soak: fds at the end: {end['fd_kinds']}")
        say(f"soak: judged on VmRSS (the means) and on fds, timerfds and threads (start to end). "
            f"VmRSS and RssAnon at a cycle end are means of 1 s samples over the last "
            f"{TRIM_PERIOD:.0f} s quiet phase, one period of the guard's heap trim, 'VmRSS min' "
            f"the least of them, 'VmRSS now' the one sample at the cycle's end. RssAnon is the "
            f"guard's heap and stacks; Pss and USS move with what other processes share with "
            f"the guard (another guard exiting leaves its libraries' pages to this one), so "
            f"they are shown only")
        say("")

        if end["guard_pid"] != self.guard_pid:
            problems.append(f"the guard restarted: MainPID {self.guard_pid} -> {end['guard_pid']}")
        if workspace is not None:
            if workspace["state"] in ("degraded", "over-budget", "failed", "stopped"):
                problems.append(f"the workspace is {workspace['state']} at the end")
            if s.unit_property(self.unit, "ActiveState") != "active":
                problems.append(f"{self.unit} is not active at the end")
        if not (measured["gc"] and measured["restart"]):
            problems.append(f"the ladder did not act while measured: {dict(measured)}")
        for problem in problems:
            say(f"soak: FAILED: {problem}")
        if not problems:
            say(f"soak: passed: the guard answers, the workspace is guarded, growth under "
                f"{GOAL_PERCENT:g} %")
        return 1 if problems else 0

    def close(self):
        self.monitor.close()
        self.log.close()


def mean(values):
    values = list(values)
    return sum(values) / len(values)


def percent(before, after):
    return (after - before) * 100.0 / before if before else 0.0


def hourly_slope(samples, key):
    """Least-squares slope of `key` over the samples' times, per hour (0 for fewer than 2)."""
    points = [(e["at"], e[key]) for e in samples]
    if len(points) < 2:
        return 0.0
    mean_t, mean_v = mean(t for t, _ in points), mean(v for _, v in points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if not spread:
        return 0.0
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / spread * 3600


def main():
    soak = Soak()
    try:
        return soak.report(*soak.run())
    finally:
        soak.close()
        say(f"soak: per-minute samples in {LOG}")


if __name__ == "__main__":
    sys.exit(main())
