"""The guard and other memory guards at rest, side by side (run in the e2e session by bench/run).

In the private user manager of tests/e2e: the installed guard, enabled as the README says, with
its shipped configuration and 8 workspaces, each a real gopls; beside it earlyoom, nohang,
low-memory-monitor and systemd-oomd, each started here as a plain foreground process with its
packaged defaults. Once the guard is at rest (every workspace running with heap figures) and
SETTLE seconds more have passed, every program is measured over the same window of MINUTES:
VmRSS, USS (Private_Clean + Private_Dirty of smaps_rollup) and Pss at the window's end, CPU
(utime+stime, and run time from every thread's schedstat) and context switches of every thread.
Writes the raw figures as JSON to OUT; bench/run turns them into the table.

usage (bench/run does this): compare_session.py --out FILE [--minutes 10] [--settle 20]
                             [--workspaces 8]
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import time

from harness import session as s

REST_TIMEOUT = 180  # the first heap read can fail while gopls starts; the next is 30 s later
START_GRACE = 3.0  # a comparator still running this long after its start counts as started
SAMPLE_EVERY = 30.0  # VmRSS is sampled this often during the window, for its range
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def say(text):
    print(f"compare: {text}", flush=True)


# /proc readers: each takes the pid and returns plain numbers, kB or ticks as the kernel writes.

def kb_fields(path):
    """"Key:   1234 kB" lines of /proc/PID/status or smaps_rollup, as {key: kB}."""
    fields = {}
    with open(path) as f:
        for line in f:
            key, _, rest = line.partition(":")
            words = rest.split()
            if len(words) == 2 and words[1] == "kB":
                fields[key] = int(words[0])
    return fields


def status_fields(path):
    """Every "Key: value" line of a status file, values as text."""
    fields = {}
    with open(path) as f:
        for line in f:
            key, _, rest = line.partition(":")
            fields[key] = rest.strip()
    return fields


def cpu_ticks(pid):
    """utime + stime of the whole process (/proc/PID/stat fields 14 and 15), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        after_comm = f.read().rsplit(")", 1)[1].split()
    return int(after_comm[11]) + int(after_comm[12])  # field 3 (state) is index 0


def threads(pid):
    return sorted(os.listdir(f"/proc/{pid}/task"), key=int)


def per_thread(pid):
    """Context switches (voluntary + nonvoluntary) and schedstat run time (ns) summed over the
    process's threads, and how many threads it has."""
    switches = 0
    run_ns = 0
    count = 0
    for tid in threads(pid):
        try:
            fields = status_fields(f"/proc/{pid}/task/{tid}/status")
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                run_ns += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that ended between the listing and the read
        switches += int(fields["voluntary_ctxt_switches"])
        switches += int(fields["nonvoluntary_ctxt_switches"])
        count += 1
    return switches, run_ns, count


def snapshot(pid):
    """Every counter of one process at one moment."""
    status = kb_fields(f"/proc/{pid}/status")
    rollup = kb_fields(f"/proc/{pid}/smaps_rollup")
    switches, run_ns, count = per_thread(pid)
    return {
        "at": time.monotonic(),
        "cpu_ticks": cpu_ticks(pid),
        "sched_ns": run_ns,
        "switches": switches,
        "threads": count,
        "vmrss_kib": status.get("VmRSS", 0),
        "rss_anon_kib": status.get("RssAnon", 0),
        "rss_file_kib": status.get("RssFile", 0),
        "pss_kib": rollup.get("Pss", 0),
        "private_clean_kib": rollup.get("Private_Clean", 0),
        "private_dirty_kib": rollup.get("Private_Dirty", 0),
        "shared_clean_kib": rollup.get("Shared_Clean", 0),
        "shared_dirty_kib": rollup.get("Shared_Dirty", 0),
    }


def alive(pid):
    return s.pid_alive(pid)


def log_head(path, lines=12):
    if path is None:
        return []
    try:
        with open(path, errors="replace") as f:
            return [line.rstrip("\n") for line in f][:lines]
    except OSError as e:
        return [f"(no log: {e})"]


# The comparators, each a plain foreground process with its package's defaults.

class Program:
    """One measured program: how it was started, its pid, or why it could not run."""

    def __init__(self, name, package, argv, how, env=None):
        self.name = name
        self.package = package
        self.argv = argv
        self.how = how
        self.env = env
        self.pid = None
        self.process = None
        self.error = None
        self.log = None

    def start(self, directory):
        self.log = os.path.join(directory, f"{self.name}.log")
        if not os.access(self.argv[0], os.X_OK):
            self.error = f"{self.argv[0]} is not installed (package {self.package})"
            return
        with open(self.log, "w") as out:
            try:
                self.process = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, env=self.env,
                                                cwd=directory)
            except OSError as e:
                self.error = f"cannot start {self.argv[0]}: {e}"
                return
        self.pid = self.process.pid

    def check_started(self):
        if self.process is None:
            return
        code = self.process.poll()
        if code is not None:
            text = " / ".join(line.strip() for line in log_head(self.log, 20)
                              if line.strip()) or "(it printed nothing)"
            self.error = f"exited with status {code} within {START_GRACE:.0f} s, saying `{text}`"
            self.pid = None

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def earlyoom_args():
    """EARLYOOM_ARGS of /etc/default/earlyoom, as earlyoom.service and its init script pass it."""
    if not os.path.exists("/etc/default/earlyoom"):
        return []
    done = s.run("sh", "-c", '. /etc/default/earlyoom; printf %s "$EARLYOOM_ARGS"', check=False)
    return shlex.split(done.stdout)


SYSTEM_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- A private bus of type system for low-memory-monitor: the policy of Debian's system.conf,
     the packages' system.d policies, no activation, no syslog, no user switch. -->
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <includedir>/usr/share/dbus-1/system.d</includedir>
</busconfig>
"""


class SystemBus:
    """A private dbus-daemon configured as a system bus; low-memory-monitor owns its name on the
    system bus and exits without one, and this host has no system bus (no PID 1 to start it)."""

    def __init__(self, directory):
        self.socket = os.path.join(directory, "system_bus_socket")
        self.address = f"unix:path={self.socket}"
        config = os.path.join(directory, "system-bus.conf")
        with open(config, "w") as f:
            f.write(SYSTEM_BUS_CONFIG.format(socket=self.socket))
        self.log = os.path.join(directory, "dbus-daemon.log")
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--nofork"],
                                            stdout=out, stderr=subprocess.STDOUT)
        s.wait_until(lambda: os.path.exists(self.socket) or self.process.poll() is not None, 10,
                     f"the private system bus socket {self.socket}")
        if self.process.poll() is not None:
            raise RuntimeError("dbus-daemon for the private system bus exited: "
                               + " ".join(log_head(self.log)))

    def owner_of(self, name):
        done = s.run("busctl", f"--address={self.address}", "status", name, check=False)
        for line in done.stdout.splitlines():
            if line.startswith("PID="):
                return int(line[4:])
        return None

    def stop(self):
        self.process.terminate()
        self.process.wait()


def comparators(directory, system_bus):
    lmm_env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=system_bus.address)
    args = earlyoom_args()
    return [
        Program("earlyoom", "earlyoom", ["/usr/bin/earlyoom"] + args,
                "`/usr/bin/earlyoom " + " ".join(args) + "` (EARLYOOM_ARGS of "
                "/etc/default/earlyoom, as earlyoom.service runs it)"),
        Program("nohang", "nohang",
                ["/usr/sbin/nohang", "--monitor", "--config", "/etc/nohang/nohang.conf"],
                "`/usr/sbin/nohang --monitor --config /etc/nohang/nohang.conf` "
                "(as nohang.service)"),
        Program("low-memory-monitor", "low-memory-monitor", ["/usr/libexec/low-memory-monitor"],
                "`/usr/libexec/low-memory-monitor` (as its unit), on a private dbus-daemon "
                "configured as the system bus (`DBUS_SYSTEM_BUS_ADDRESS`)", env=lmm_env),
        Program("systemd-oomd", "systemd-oomd", ["/lib/systemd/systemd-oomd"],
                "`/lib/systemd/systemd-oomd` (as its unit's ExecStart)"),
    ]


# The guard with its workspaces

def guard_at_rest(objects):
    """Every workspace running with heap figures read (as wslgo-bench-daemon waits)."""
    for obj in objects:
        if s.workspace_property(obj, "State") != "running":
            return False
        if int(s.workspace_property(obj, "HeapInUse")) <= 0:
            return False
    return True


def start_guard(workspaces):
    guard_pid = s.enable_guard()  # the shipped configuration: no user config is written
    objects = []
    for n in range(workspaces):
        root = s.copy_fixture_module("hello", f"ws{n}")
        obj, _, _ = s.add_and_wait(root)
        objects.append(obj)
    return guard_pid, objects


def private_by_mapping(pid):
    """Private_Clean + Private_Dirty (kB) per mapped file, "[heap]", "[stack]" or "anon", from
    /proc/PID/smaps, largest first: where a process's USS is."""
    private = {}
    name = "anon"
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            words = line.split()
            if not words:
                continue
            if "-" in words[0] and not words[0].endswith(":"):  # a mapping's header
                name = words[5] if len(words) > 5 else "anon"
            elif words[0] in ("Private_Clean:", "Private_Dirty:"):
                private[name] = private.get(name, 0) + int(words[1])
    return sorted(private.items(), key=lambda item: -item[1])


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def maps_libraries(pid):
    """The distinct files mapped by a process, in the order of /proc/PID/maps."""
    seen = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6 and parts[5].startswith("/"):
                path = parts[5].strip()
                if path not in seen:
                    seen.append(path)
    return seen


# The window

def measure(programs, seconds):
    """Counters of every running program at the start and the end of one shared window, and
    VmRSS every SAMPLE_EVERY seconds in between."""
    running = [p for p in programs if p.pid]
    load = [loadavg()]
    start = {p.name: snapshot(p.pid) for p in running}
    samples = {p.name: [start[p.name]["vmrss_kib"]] for p in running}
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(SAMPLE_EVERY, left))  # the measurement window itself
        for p in running:
            if alive(p.pid):
                samples[p.name].append(kb_fields(f"/proc/{p.pid}/status").get("VmRSS", 0))
    end = {}
    load.append(loadavg())
    for p in running:
        if alive(p.pid):
            end[p.name] = snapshot(p.pid)
            end[p.name]["private_by_mapping_kib"] = private_by_mapping(p.pid)
        else:
            said = " / ".join(line.strip() for line in log_head(p.log, 20) if line.strip())
            p.error = (f"exited during the window, saying `{said}`" if p.log
                       else "exited during the window (its lines are in the session's journal)")
    return start, end, samples, load


def run_window(args, directory, guard_pid, objects, programs, system_bus):
    """Starts the comparators, waits for rest, measures; the raw figures as a dict."""
    for p in programs:
        p.start(directory)
    time.sleep(START_GRACE)
    for p in programs:
        p.check_started()
        say(f"{p.name}: " + (f"pid {p.pid}" if p.pid else f"not running: {p.error}"))
    lmm = next(p for p in programs if p.name == "low-memory-monitor")
    lmm_owner = system_bus.owner_of("org.freedesktop.LowMemoryMonitor") if lmm.pid else None

    s.wait_until(lambda: guard_at_rest(objects), REST_TIMEOUT,
                 "every workspace running with heap figures (HeapInUse > 0)")
    say(f"guard at rest; {args.settle:.0f} s more before the window")
    time.sleep(args.settle)

    guard = Program("wslgo-guard", "wslgo-guard", [], "`systemctl --user enable --now "
                    "wslgo-guard` (installed build, shipped configuration)")
    guard.pid = guard_pid
    guard.log = None
    window = args.minutes * 60
    say(f"measuring {1 + sum(1 for p in programs if p.pid)} programs over {window:.0f} s")
    start, end, samples, load = measure([guard] + programs, window)
    guard_pid_after = int(s.unit_property(s.GUARD, "MainPID"))
    workspace_pids = [int(s.workspace_property(obj, "MainPID")) for obj in objects]
    states = [s.workspace_property(obj, "State") for obj in objects]
    libraries = maps_libraries(guard_pid) if alive(guard_pid) else []

    results = {
        "minutes": args.minutes,
        "loadavg": load,
        "settle_seconds": args.settle,
        "clock_ticks": CLOCK_TICKS,
        "workspaces": len(objects),
        "workspace_states": states,
        "workspace_pids": workspace_pids,
        "guard_pid_before": guard_pid,
        "guard_pid_after": guard_pid_after,
        "guard_libraries": libraries,
        "low_memory_monitor_bus_owner": lmm_owner,
        "programs": [],
    }
    for p in [guard] + programs:
        results["programs"].append({
            "name": p.name,
            "package": p.package,
            "how": p.how,
            "pid": p.pid,
            "error": p.error,
            "log_head": log_head(p.log) if p.log else [],
            "start": start.get(p.name),
            "end": end.get(p.name),
            "vmrss_samples_kib": samples.get(p.name, []),
        })
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--settle", type=float, default=20.0)
    parser.add_argument("--workspaces", type=int, default=8)
    args = parser.parse_args()

    directory = os.path.join(s.ROOT, "compare")
    os.makedirs(directory, exist_ok=True)
    gopls_version = s.run(s.GOPLS, "version").stdout.strip().splitlines()
    say(f"gopls: {s.GOPLS}: {gopls_version[0] if gopls_version else '?'}")

    guard_pid, objects = start_guard(args.workspaces)
    say(f"guard pid {guard_pid}, {len(objects)} workspaces added")

    system_bus = SystemBus(directory)
    programs = comparators(directory, system_bus)
    try:
        results = run_window(args, directory, guard_pid, objects, programs, system_bus)
    finally:
        for p in programs:
            p.stop()
        system_bus.stop()
    results["gopls"] = s.GOPLS
    results["gopls_version"] = gopls_version
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
    say(f"raw figures in {args.out}")
    guard = results["programs"][0]
    if not guard["end"]:
        say(f"the guard was not measured: {guard['error']}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
