"""The private cgroup subtree a test user manager runs in, on hybrid, v1 or pure v2 hosts."""

import dataclasses
import os
import signal
import time


@dataclasses.dataclass
class Hierarchy:
    mount_point: str  # where it is mounted, e.g. /sys/fs/cgroup/memory
    root: str  # the mount's root inside the hierarchy ("/" unless a cgroup namespace hides more)
    version: int  # 1 or 2
    key: str  # how /proc/PID/cgroup names it: "" for v2, the controller list for v1

    def directory(self, cgroup_path):
        """The directory of `cgroup_path` (as /proc/PID/cgroup writes it) in this mount."""
        relative = cgroup_path
        if self.root != "/" and cgroup_path.startswith(self.root):
            relative = cgroup_path[len(self.root):]
        return os.path.join(self.mount_point, relative.lstrip("/"))


def _unescape_mount_field(field):
    # mountinfo escapes space, tab, newline and backslash as octal.
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text):
    """Every cgroup (v1) and cgroup2 mount in a /proc/PID/mountinfo text."""
    hierarchies = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        fstype, super_options = tail[0], tail[2].split(",")
        root, mount_point = _unescape_mount_field(fields[3]), _unescape_mount_field(fields[4])
        if fstype == "cgroup2":
            hierarchies.append(Hierarchy(mount_point, root, 2, ""))
        elif fstype == "cgroup":
            # /proc/PID/cgroup lists a v1 hierarchy by its controllers and name=, in this order.
            known = {"ro", "rw", "clone_children", "noprefix", "xattr", "cpuset_v2_mode",
                     "favordynmods", "memory_localevents", "memory_recursiveprot", "nsdelegate",
                     "memory_hugetlb_accounting"}
            parts = [o for o in super_options if o not in known and not o.startswith("release_agent")]
            hierarchies.append(Hierarchy(mount_point, root, 1, ",".join(sorted(parts))))
    return hierarchies


def parse_proc_cgroup(text):
    """{hierarchy key: cgroup path} from a /proc/PID/cgroup text (keys as Hierarchy.key)."""
    paths = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        paths[",".join(sorted(controllers.split(","))) if controllers else ""] = path
    return paths


# What systemd chowns in a delegated cgroup (cg_set_access), besides the directory itself.
_DELEGATED_FILES = {
    1: ("cgroup.procs", "tasks", "cgroup.clone_children"),
    2: ("cgroup.procs", "cgroup.subtree_control", "cgroup.threads"),
}


def _writable(directory):
    return os.access(directory, os.W_OK) and os.access(os.path.join(directory, "cgroup.procs"),
                                                       os.W_OK)


def _read(path):
    with open(path) as f:
        return f.read()


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


class CgroupTree:
    """A slice `NAME.slice` with leaves, made in every writable cgroup hierarchy.

    systemd expects one cgroup path in all hierarchies, so the slice goes below the path this
    process has in systemd's own hierarchy (name=systemd on v1 and hybrid hosts, else cgroup2),
    in every hierarchy alike. On a pure v2 host whose cgroup cannot hand the memory controller
    down (it holds processes: the "no internal processes" rule) it goes below the root instead,
    which may always delegate. The name ends in .slice and the manager's leaf is
    user@UID.service, so journald maps the units' cgroups to _SYSTEMD_USER_UNIT as on a real
    machine.
    """

    def __init__(self, name, leaves, mountinfo_text=None, proc_cgroup_text=None):
        mountinfo_text = mountinfo_text or _read("/proc/self/mountinfo")
        proc_cgroup_text = proc_cgroup_text or _read("/proc/self/cgroup")
        self.name = name
        self.leaves = list(leaves)
        self.notes = []
        self._slices = {}  # mount point -> the slice directory
        self._owned = []  # the hierarchies a delegated leaf is chowned in (systemd's own, cgroup2)
        paths = parse_proc_cgroup(proc_cgroup_text)
        hierarchies = [h for h in parse_mountinfo(mountinfo_text) if h.key in paths]
        systemds = [h for h in hierarchies if h.key == "name=systemd"]
        unified = [h for h in hierarchies if h.version == 2]
        reference = (systemds or unified or [None])[0]
        if reference is None:
            self.notes.append("no cgroup hierarchy systemd could use is mounted")
            return
        parent_path = paths[reference.key]
        if reference.version == 2 and not self._can_delegate_memory(
                reference.directory(parent_path)):
            self.notes.append(f"{parent_path} cannot delegate memory; using the root")
            parent_path = "/"
        for hierarchy in hierarchies:
            parent = hierarchy.directory(parent_path)
            if not os.path.isdir(parent) or not _writable(parent):
                self.notes.append(f"{parent} is missing or not writable; skipped")
                continue
            self._slices[hierarchy.mount_point] = os.path.join(parent, name)
            if hierarchy.version == 2 or hierarchy.key == "name=systemd":
                self._owned.append(hierarchy)

    @staticmethod
    def _can_delegate_memory(directory):
        try:
            available = _read(os.path.join(directory, "cgroup.controllers")).split()
            enabled = _read(os.path.join(directory, "cgroup.subtree_control")).split()
        except OSError:
            return False
        if "memory" not in available:
            return True  # nothing to lose: memory is bound to a v1 hierarchy (hybrid)
        if "memory" in enabled:
            return True
        try:
            _write(os.path.join(directory, "cgroup.subtree_control"), "+memory")
            return True
        except OSError:
            return False

    @property
    def hierarchies(self):
        return sorted(self._slices)

    @property
    def slice_dirs(self):
        return [self._slices[m] for m in self.hierarchies]

    def create(self):
        for mount_point, slice_dir in self._slices.items():
            os.makedirs(slice_dir, exist_ok=True)
            for leaf in self.leaves:
                os.makedirs(os.path.join(slice_dir, leaf), exist_ok=True)
            self._inherit_cpuset(mount_point, slice_dir)
            self._delegate_v2(slice_dir)

    @staticmethod
    def _inherit_cpuset(mount_point, slice_dir):
        # A new v1 cpuset group has no CPUs and no memory nodes; joining it fails with ENOSPC.
        if not os.path.exists(os.path.join(mount_point, "cpuset.cpus")):
            return
        for leaf in [slice_dir] + [os.path.join(slice_dir, d) for d in os.listdir(slice_dir)
                                   if os.path.isdir(os.path.join(slice_dir, d))]:
            parent = os.path.dirname(leaf)
            for knob in ("cpuset.cpus", "cpuset.mems"):
                if not _read(os.path.join(leaf, knob)).strip():
                    _write(os.path.join(leaf, knob), _read(os.path.join(parent, knob)).strip())

    @staticmethod
    def _delegate_v2(slice_dir):
        controllers = os.path.join(slice_dir, "cgroup.controllers")
        if not os.path.exists(controllers):
            return
        for controller in _read(controllers).split():
            try:
                _write(os.path.join(slice_dir, "cgroup.subtree_control"), "+" + controller)
            except OSError:
                pass  # a controller the parent's type forbids (threaded): systemd copes

    def delegate(self, leaf, uid, gid):
        """Hands `leaf` to a user the way systemd's `Delegate=yes` does for user@UID.service:
        the directory and the files that move processes and enable controllers are chowned in
        cgroup2 and in the named `systemd` v1 hierarchy only. The v1 controller hierarchies stay
        root's, so on a hybrid or v1 host the user's manager cannot give its units a memory (or
        cpu, blkio) cgroup of their own; on pure v2 the leaf gets what the slice enables."""
        delegated = []
        for hierarchy in self._owned:
            directory = os.path.join(self._slices[hierarchy.mount_point], leaf)
            files = _DELEGATED_FILES[hierarchy.version]
            for path in [directory] + [os.path.join(directory, f) for f in files]:
                if os.path.exists(path):
                    os.chown(path, uid, gid)
            delegated.append(directory)
        return delegated

    def join(self, leaf, pid=0):
        """Moves `pid` (0: the caller) into `leaf` in every hierarchy."""
        for slice_dir in self._slices.values():
            _write(os.path.join(slice_dir, leaf, "cgroup.procs"), str(pid))

    def pids(self):
        found = set()
        for slice_dir in self._slices.values():
            for directory, _, files in os.walk(slice_dir):
                if "cgroup.procs" in files:
                    try:
                        found.update(int(p) for p in _read(os.path.join(directory, "cgroup.procs")).split())
                    except OSError:
                        pass
        return found

    def remove(self, timeout=10.0):
        """Kills whatever is left in the subtree and removes it, children first."""
        deadline = time.monotonic() + timeout
        me = os.getpid()
        while True:
            left = self.pids() - {me}
            if not left or time.monotonic() > deadline:
                break
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        failures = []
        for slice_dir in self._slices.values():
            if not os.path.isdir(slice_dir):
                continue
            for directory, _, _ in sorted(os.walk(slice_dir), key=lambda w: -len(w[0])):
                try:
                    os.rmdir(directory)
                except OSError as e:
                    failures.append(f"{directory}: {e.strerror}")
        return failures


def stale_slices(prefix, mountinfo_text=None):
    """Slices named PREFIX<pid>.slice left by an earlier run whose pid is gone, in any hierarchy."""
    mountinfo_text = mountinfo_text or _read("/proc/self/mountinfo")
    found = []
    for hierarchy in parse_mountinfo(mountinfo_text):
        for directory, subdirs, _ in os.walk(hierarchy.mount_point):
            for sub in list(subdirs):
                if sub.startswith(prefix) and sub.endswith(".slice"):
                    pid = sub[len(prefix):-len(".slice")]
                    if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                        found.append(os.path.join(directory, sub))
                    subdirs.remove(sub)
            if directory.count("/") - hierarchy.mount_point.count("/") >= 3:
                subdirs.clear()  # ours sit at most a few levels down; do not crawl the host
    return found


def controller_dir(control_group, controller, mountinfo_text=None):
    """The directory of `control_group` in the hierarchy that carries `controller` ("memory",
    "cpu", "blkio", ...): the v1 hierarchy with it, else cgroup2 when its parent enables it
    there, else None."""
    if mountinfo_text is None:
        mountinfo_text = _read("/proc/self/mountinfo")
    hierarchies = parse_mountinfo(mountinfo_text)
    for h in hierarchies:
        if h.version == 1 and controller in h.key.split(","):
            directory = h.directory(control_group)
            return directory if os.path.isdir(directory) else None
    for h in hierarchies:
        if h.version == 2:
            directory = h.directory(control_group)
            parent = os.path.dirname(directory.rstrip("/"))
            try:
                enabled = _read(os.path.join(parent, "cgroup.subtree_control")).split()
            except OSError:
                return None
            return directory if controller in enabled and os.path.isdir(directory) else None
    return None
