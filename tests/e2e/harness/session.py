"""What a scenario uses inside the private session: the user's commands, with clear failures."""

import json
import os
import queue
import re
import subprocess
import threading
import time
import urllib.request

ROOT = os.environ.get("WSLGO_E2E_ROOT", "")
HOME = os.environ.get("HOME", "")
SOURCE = os.environ.get("WSLGO_E2E_SOURCE", "")
PREFIX = os.environ.get("WSLGO_E2E_PREFIX", "")
RUNTIME_DIR = os.environ.get("XDG_RUNTIME_DIR", "")
CONFIG_HOME = os.environ.get("XDG_CONFIG_HOME", "")
STATE_HOME = os.environ.get("XDG_STATE_HOME", "")
# The gopls under test (harness/runner.py): what the units' launcher runs, and the editors' client.
GOPLS = os.environ.get("GOPLS", "gopls")
# `run --as-user`: the scenario, the manager and everything it starts run as a normal user.
NORMAL_USER = os.geteuid() != 0

GUARD = "wslgo-guard.service"
BUS_NAME = "org.wslgo.Guard1"
MANAGER_PATH = "/org/wslgo/Guard1"
MANAGER_IFACE = "org.wslgo.Guard1.Manager"
WORKSPACE_IFACE = "org.wslgo.Guard1.Workspace"


class CommandFailed(AssertionError):
    pass


def run(*argv, check=True, timeout=60, input=None, cwd=None, env=None):
    """Runs a command; a failure says what ran and what it printed."""
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                              input=input, cwd=cwd, env=env)
    except subprocess.TimeoutExpired as e:
        raise CommandFailed(f"`{' '.join(argv)}` did not finish within {timeout}s; "
                            f"output so far: {e.stdout!r} {e.stderr!r}") from None
    if check and done.returncode != 0:
        raise CommandFailed(f"`{' '.join(argv)}` exited {done.returncode}\n"
                            f"stdout: {done.stdout.strip()}\nstderr: {done.stderr.strip()}")
    return done


def wait_until(probe, timeout, what):
    """Polls `probe` until it returns something truthy; on timeout says what it last saw."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = probe()
        except CommandFailed as e:
            last = e
            value = None
        else:
            value = last
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; "
                                 f"last seen: {last}")
        time.sleep(0.1)


# systemctl --user

def systemctl(*args, check=True, timeout=60):
    return run("systemctl", "--user", *args, check=check, timeout=timeout)


def unit_properties(unit, *names):
    out = systemctl("show", unit, *[f"--property={n}" for n in names]).stdout
    props = {}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        props[key] = value
    return props


def unit_property(unit, name):
    return unit_properties(unit, name).get(name, "")


def wait_active(unit, timeout=60):
    return wait_until(lambda: unit_property(unit, "ActiveState") == "active", timeout,
                      f"{unit} to be active ({_unit_summary(unit)})")


def wait_inactive(unit, timeout=60):
    return wait_until(lambda: unit_property(unit, "ActiveState") in ("inactive", "failed"),
                      timeout, f"{unit} to stop")


def _unit_summary(unit):
    try:
        p = unit_properties(unit, "ActiveState", "SubState", "Result", "LoadState")
        return ", ".join(f"{k}={v}" for k, v in p.items())
    except CommandFailed as e:
        return str(e)


# busctl --user

def busctl_json(*args, timeout=60):
    return json.loads(run("busctl", "--user", "--json=short", *args, timeout=timeout).stdout)


def call(method, signature="", *args, path=MANAGER_PATH, interface=MANAGER_IFACE, timeout=60):
    """busctl --user call; returns the reply's values as a list (empty for no reply values)."""
    argv = ["call", "--timeout", f"{timeout}s", BUS_NAME, path, interface, method]
    if signature:
        argv += [signature] + [str(a) for a in args]
    out = run("busctl", "--user", "--json=short", *argv, timeout=timeout + 5).stdout.strip()
    return json.loads(out)["data"] if out else []


def call_fails(method, signature="", *args, path=MANAGER_PATH, interface=MANAGER_IFACE):
    argv = ["busctl", "--user", "call", BUS_NAME, path, interface, method]
    if signature:
        argv += [signature] + [str(a) for a in args]
    return run(*argv, check=False)


def get_property(name, path=MANAGER_PATH, interface=MANAGER_IFACE):
    return busctl_json("get-property", BUS_NAME, path, interface, name)["data"]


def status():
    return json.loads(call("GetStatus")[0])


def workspace_status(path):
    """The workspace's entry in GetStatus' JSON."""
    for workspace in status()["workspaces"]:
        if workspace["path"] == path:
            return workspace
    raise AssertionError(f"GetStatus has no workspace {path}")


def add_workspace(path, timeout=90):
    return call("AddWorkspace", "sa{sv}", path, 0, timeout=timeout)[0]


def workspace_object(path):
    return call("GetWorkspace", "s", path)[0]


def workspace_property(obj, name):
    return get_property(name, path=obj, interface=WORKSPACE_IFACE)


def bus_name_owned():
    names = busctl_json("list", "--acquired")
    for entry in names if isinstance(names, list) else []:
        if entry.get("name") == BUS_NAME:
            return entry.get("pid") or True
    return False


class SignalMonitor:
    """busctl --user monitor in the background, collecting the guard's signals as they come.

    It is ready only once it has seen a probe signal of its own, so nothing the test triggers
    afterwards can be missed.
    """

    _PROBE_IFACE = "org.wslgo.E2eProbe"

    def __init__(self, *matches):
        rules = list(matches) + [f"type='signal',interface='{self._PROBE_IFACE}'"]
        argv = ["busctl", "--user", "monitor", "--json=short"]
        for rule in rules:
            argv += ["--match", rule]
        self._process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True)
        self._lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 15
        while True:
            run("busctl", "--user", "emit", "/org/wslgo/E2eProbe", self._PROBE_IFACE, "Ping")
            if self._drain(0.3, lambda m: m.get("interface") == self._PROBE_IFACE):
                break
            if time.monotonic() > deadline:
                raise AssertionError("busctl monitor never saw its own probe signal: "
                                     + self._process.stderr.read() if self._process.poll()
                                     else "still running")

    def _read(self):
        for line in self._process.stdout:
            line = line.strip()
            if line.startswith("{"):
                try:
                    self._lines.put(json.loads(line))
                except ValueError:
                    pass

    def _drain(self, timeout, predicate):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                message = self._lines.get(timeout=remaining)
            except queue.Empty:
                return None
            if message.get("interface") == self._PROBE_IFACE:
                if predicate(message):
                    return message
                continue
            self.seen.append(message)
            if predicate(message):
                return message

    def signals(self, member):
        """(path, payload list) of every `member` signal seen so far."""
        self._drain(0.2, lambda m: False)
        return [(m.get("path"), m.get("payload", {}).get("data", []))
                for m in self.seen if m.get("member") == member]

    def wait_for(self, member, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        for path, data in self.signals(member):
            if predicate(path, data):
                return path, data
        while time.monotonic() < deadline:
            message = self._drain(deadline - time.monotonic(),
                                  lambda m: m.get("member") == member)
            if message and predicate(message.get("path"),
                                     message.get("payload", {}).get("data", [])):
                return message.get("path"), message["payload"]["data"]
        raise AssertionError(f"no {member} signal {what} within {timeout:.0f}s; seen: "
                             f"{[(m.get('member'), m.get('payload', {}).get('data')) for m in self.seen]}")

    def close(self):
        self._process.terminate()
        self._process.wait()
        self._process.stdout.close()
        self._process.stderr.close()


# The journal

def journal(*matches, unit=GUARD):
    """Entries of a user unit (as `journalctl --user-unit`) as dicts, oldest first."""
    argv = ["journalctl", "--no-pager", "-o", "json"]
    if unit:
        argv += ["--user-unit", unit]
    out = run(*argv, *matches).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


# gopls as an editor would reach it

def gopls(socket, workspace, *args, timeout=120):
    """The gopls command line as a client of the daemon on `socket`. It opens its working
    directory as the workspace, as an editor opens its folder, so it runs in `workspace`."""
    return run(GOPLS, f"-remote=unix;{socket}", *args, timeout=timeout, cwd=workspace)


def gopls_version():
    """What the gopls under test reports as its version: "v0.23.0", or "master" for Debian 12's
    build of the 0.5.0 line."""
    words = run(GOPLS, "version").stdout.split()
    return words[1] if len(words) > 1 else ""


def is_old_gopls():
    """True for Debian's gopls (the 0.5.0 line of 2020), whose figures some checks hold it to."""
    version = gopls_version()
    return version == "master" or version.startswith("v0.5.")


def gopls_heap_inuse(debug_address):
    """HeapInuse as gopls' own debug server reports it: the Go runtime's MemStats at the end of
    the heap profile's text form."""
    url = f"http://{debug_address}/debug/pprof/heap?debug=1"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode(errors="replace")
    found = re.search(r"^# HeapInuse = (\d+)$", text, re.MULTILINE)
    if not found:
        raise AssertionError(f"no '# HeapInuse = ' line in {url}")
    return int(found.group(1))


def position_of(path, needle, occurrence=1, offset_in_needle=0):
    """(line, column), 1-based, of the n-th occurrence of `needle` in a file (bytes = runes here)."""
    seen = 0
    with open(path) as f:
        for number, line in enumerate(f, 1):
            start = 0
            while True:
                index = line.find(needle, start)
                if index < 0:
                    break
                seen += 1
                if seen == occurrence:
                    return number, index + 1 + offset_in_needle
                start = index + 1
    raise AssertionError(f"{needle!r} not found {occurrence} time(s) in {path}")


# The product's files

def write_user_config(config):
    directory = os.path.join(CONFIG_HOME, "wslgo-guard")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f, indent=2)


def copy_fixture_module(name, as_name=None):
    """A copy of tests/e2e/fixtures/NAME under ~/src/AS_NAME, as a user's checkout."""
    import shutil
    target = os.path.join(HOME, "src", as_name or name)
    shutil.copytree(os.path.join(SOURCE, "tests", "e2e", "fixtures", name), target,
                    ignore=shutil.ignore_patterns("README.md"))
    return target


def home_outside_guard():
    """{path relative to HOME: (mode, size, mtime_ns, link target)} for everything under HOME
    except what the guard, its gopls and the user manager write there: the guard's state and
    runtime directories, ~/.cache (gopls' file cache, Go's build cache), Go's telemetry counters
    (~/.config/go) and systemd's own state (~/.local/share/systemd, ~/.config/systemd: enable
    links). Directories count by their entries, not their size or times. What a fault must leave
    as it was (issue #13)."""
    import stat
    skipped = {os.path.join(STATE_HOME, "wslgo-guard"), os.path.join(RUNTIME_DIR, "wslgo-guard"),
               os.path.join(HOME, ".cache"), os.path.join(CONFIG_HOME, "go"),
               os.path.join(HOME, ".local", "share", "systemd"),
               os.path.join(CONFIG_HOME, "systemd")}
    snapshot = {}
    for directory, subdirectories, files in os.walk(HOME):
        subdirectories[:] = [d for d in subdirectories
                             if os.path.join(directory, d) not in skipped]
        for name in subdirectories + files:
            path = os.path.join(directory, name)
            if path in skipped:
                continue
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue  # gone meanwhile: absent from this one
            is_directory = stat.S_ISDIR(st.st_mode)
            snapshot[os.path.relpath(path, HOME)] = (
                st.st_mode, 0 if is_directory else st.st_size,
                0 if is_directory else st.st_mtime_ns,
                os.readlink(path) if stat.S_ISLNK(st.st_mode) else "")
    return snapshot


def tree_changes(before, after):
    """What changed from one home_outside_guard() to another, one line per path; [] for none."""
    return ([f"removed {p}" for p in sorted(before.keys() - after.keys())]
            + [f"added {p}" for p in sorted(after.keys() - before.keys())]
            + [f"changed {p}: {before[p]} -> {after[p]}" for p in sorted(before.keys() & after.keys())
               if before[p] != after[p]])


def proc_status_ids(pid, field="Uid"):
    """The real, effective, saved and filesystem ids of `/proc/PID/status`' Uid: or Gid: line."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return [int(n) for n in line.split()[1:]]
    raise AssertionError(f"/proc/{pid}/status has no {field}")


def proc_status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"/proc/{pid}/status has no {field}")


# Steps several scenarios share

def escape_path(path):
    return run("systemd-escape", "--path", path).stdout.strip()


def gopls_unit_for(path):
    return f"wslgo-gopls@{escape_path(path)}.service"


def enable_guard():
    """`systemctl --user enable --now wslgo-guard`, as the README says; returns its MainPID."""
    systemctl("daemon-reload")
    systemctl("enable", "--now", GUARD, timeout=90)
    wait_active(GUARD, 30)
    return int(unit_property(GUARD, "MainPID"))


def add_and_wait(path, timeout=120):
    """AddWorkspace, then waits for the unit to be active and its socket to exist."""
    obj = add_workspace(path)
    unit = workspace_property(obj, "Unit")
    wait_active(unit, timeout)
    socket = workspace_property(obj, "Socket")
    wait_until(lambda: os.path.exists(socket), timeout, f"gopls' socket {socket}")
    return obj, unit, socket


def fast_sampling_config(**overrides):
    """A user config that samples fast and reads the heap every second; thresholds stay high."""
    config = {"guard": {"sample_interval": "500ms", "fast_sample_interval": "100ms",
                        "heap_interval": "1s"}}
    for key, value in overrides.items():
        config[key] = value
    return config


def _hierarchies():
    from harness import cgroups
    with open("/proc/self/mountinfo") as f:
        return cgroups.parse_mountinfo(f.read())


def unit_memory_source(control_group):
    """(source, file): where a unit's memory figure is on this host, named as GetStatus'
    `memory_source` names it: ("cgroup-v2", memory.current), ("cgroup-v1",
    memory.usage_in_bytes), or ("process-rss", None) when the unit has no memory cgroup of its
    own (a normal user on a hybrid or v1 host) and the guard sums its processes' VmRSS."""
    for h in sorted(_hierarchies(), key=lambda h: -h.version):
        directory = h.directory(control_group)
        if h.version == 2 and os.path.exists(os.path.join(directory, "memory.current")):
            return "cgroup-v2", os.path.join(directory, "memory.current")
        if h.version == 1 and "memory" in h.key.split(","):
            candidate = os.path.join(directory, "memory.usage_in_bytes")
            if os.path.exists(candidate):
                return "cgroup-v1", candidate
    return "process-rss", None


def cgroup_memory_file(control_group):
    """The memory figure of a unit's cgroup as the kernel reports it, v2 first, then v1."""
    source, path = unit_memory_source(control_group)
    if path is None:
        raise AssertionError(f"no memory.current or memory.usage_in_bytes for {control_group}")
    return path


def unit_memory_limit_files(control_group):
    """{"memory_high": path or None, "memory_max": path or None}: the files the kernel enforces
    a unit's MemoryHigh= and MemoryMax= through (cgroup2 memory.high and memory.max; v1 has
    memory.limit_in_bytes for MemoryMax= only), where the unit's own cgroup has them."""
    found = {"memory_high": None, "memory_max": None}
    for h in _hierarchies():
        directory = h.directory(control_group)
        names = ({"memory_high": "memory.high", "memory_max": "memory.max"} if h.version == 2
                 else {"memory_max": "memory.limit_in_bytes"} if "memory" in h.key.split(",")
                 else {})
        for control, name in names.items():
            if found[control] is None and os.path.exists(os.path.join(directory, name)):
                found[control] = os.path.join(directory, name)
    return found


def memory_controller_is_v1():
    """True when the memory controller is bound to a v1 hierarchy (hybrid or v1 hosts). A
    delegated cgroup (`Delegate=yes`, `run --as-user`) is the user's in cgroup2 and the named
    systemd hierarchy only, so a normal user's units then get no memory cgroup of their own."""
    return any(h.version == 1 and "memory" in h.key.split(",") for h in _hierarchies())


def units_get_memory_cgroups():
    """Whether the user manager gives each unit a memory cgroup here: root always does; a
    normal user only where memory is a cgroup2 controller the delegated cgroup can enable."""
    return not (NORMAL_USER and memory_controller_is_v1())


def cgroup_procs_path(control_group):
    """A unit's cgroup.procs in systemd's own hierarchy: the named systemd one on v1 and hybrid
    hosts, else cgroup2."""
    hierarchies = _hierarchies()
    own = ([h for h in hierarchies if h.key == "name=systemd"]
           or [h for h in hierarchies if h.version == 2])
    return os.path.join(own[0].directory(control_group), "cgroup.procs")


def cgroup_pids(control_group):
    """The processes of a unit's cgroup."""
    with open(cgroup_procs_path(control_group)) as f:
        return [int(pid) for pid in f.read().split()]


def summed_vm_rss(pids):
    """The sum of VmRSS over `pids`, in bytes; a process gone meanwhile counts 0."""
    total = 0
    for pid in pids:
        try:
            total += proc_status_kib(pid, "VmRSS") * 1024
        except (OSError, AssertionError):
            pass  # exited, or a kernel thread / zombie without VmRSS
    return total


def cgroup_reclaim_available(control_group):
    """True when a unit's cgroup has memory.reclaim (cgroup v2, Linux 5.19 on), which a trim
    can use whatever gopls keeps on disk."""
    return any(h.version == 2
               and os.path.exists(os.path.join(h.directory(control_group), "memory.reclaim"))
               for h in _hierarchies())


def read_int(path):
    with open(path) as f:
        return int(f.read().strip())


def close_enough(a, b, fraction=0.25, slack=16 << 20):
    return abs(a - b) <= max(slack, fraction * max(a, b))


def user_manager_control_group():
    """The user manager's own cgroup (…/user@UID.service), as systemd names it."""
    return systemctl("show", "--property=ControlGroup", "--value").stdout.strip()


def pid_alive(pid):
    """True while `pid` runs; a zombie (killed, not yet reaped by systemd) counts as gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def oom_score_adj(pid):
    return read_int(f"/proc/{pid}/oom_score_adj")
