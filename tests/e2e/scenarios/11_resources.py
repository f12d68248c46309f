"""Scenario 11: the resource controls (issue #19). Each reaches the unit (`systemctl --user show`)
and gopls' process or cgroup where this host has the controller, and GetStatus says honestly
which it enforces; a unit killed for memory_max is reported; and under real memory pressure in a
bounded memory cgroup the kernel's OOM killer takes gopls (oom_score_adj 500) rather than a
larger balloon beside it (0), after which systemd restarts gopls."""

import os
import unittest

from harness import cgroups
from harness import session as s

CONTROLS = {"memory_max": "1G", "cpu_weight": 40, "io_weight": 30, "oom_score_adjust": 600}

# Grows in 4 MiB steps of touched memory until gopls (argv[1]) is gone, then says so and exits,
# which ends the pressure; past the cap (argv[3] bytes) it gives up. Run as a unit of the user
# manager, so it is inside the bounded cgroup beside gopls.
BALLOON = r"""
import sys, time
gopls, result, cap = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False
chunks = []
while alive(gopls):
    if len(chunks) * (4 << 20) >= cap:
        open(result, "w").write(f"cap {len(chunks) * 4}\n")
        time.sleep(600)
    chunks.append(b"\1" * (4 << 20))
    time.sleep(0.005)
open(result, "w").write(f"gopls-gone {len(chunks) * 4}\n")
"""


def configure(config):
    """Writes the user config and reloads the guard, waiting until it says it loaded it: tests
    share one guard, and a test must not run on the previous one's settings."""
    s.write_user_config(config)
    monitor = s.SignalMonitor(
        f"type='signal',interface='{s.MANAGER_IFACE}',member='ConfigReloaded'")
    try:
        s.systemctl("reload", s.GUARD)
        monitor.wait_for("ConfigReloaded", lambda p, d: d[0], 20, "with ok = true")
    finally:
        monitor.close()


def read_first(directory, *names):
    """(name, text) of the first of `names` in `directory`, or (None, None)."""
    for name in names:
        path = os.path.join(directory, name) if directory else None
        if path and os.path.exists(path):
            with open(path) as f:
                return name, f.read().strip()
    return None, None


class Controls(unittest.TestCase):
    def setUp(self):
        s.enable_guard()
        configure(s.fast_sampling_config(workspaces={"default": dict(CONTROLS)}))
        self.root = s.copy_fixture_module("hello", self._testMethodName)
        self.obj, self.unit, self.socket = s.add_and_wait(self.root)

    def test_each_control_reaches_the_unit_gopls_and_its_cgroup_where_the_host_has_it(self):
        props = s.wait_until(
            lambda: (lambda p: p if p["CPUWeight"] == "40" else None)(
                s.unit_properties(self.unit, "MemoryMax", "CPUWeight", "IOWeight",
                                  "OOMScoreAdjust", "MainPID", "ControlGroup")),
            20, f"{self.unit}'s CPUWeight to be the configured 40")
        self.assertEqual(props["MemoryMax"], str(1 << 30))
        self.assertEqual(props["IOWeight"], "30")
        # The unit file's default; the launcher gives gopls the workspace's own value.
        self.assertEqual(props["OOMScoreAdjust"], "500")
        pid = int(props["MainPID"])
        self.assertEqual(s.oom_score_adj(pid), 600)
        status = s.wait_until(
            lambda: (lambda w: w if w["oom_score_adj"]["effective"] == 600 else None)(
                s.workspace_status(self.root)),
            20, "GetStatus' oom_score_adj.effective to be 600")
        self.assertEqual(status["oom_score_adj"]["configured"], 600)

        group = props["ControlGroup"]
        memory = cgroups.controller_dir(group, "memory")
        name, value = read_first(memory, "memory.max", "memory.limit_in_bytes")
        print(f"\n  memory: {memory} {name}={value}; GetStatus {status['memory_max']}")
        if name:
            self.assertEqual(int(value), 1 << 30, f"{memory}/{name}")
        self.assertEqual(status["memory_max"]["enforced"], name is not None, status["memory_max"])

        cpu = cgroups.controller_dir(group, "cpu")
        name, value = read_first(cpu, "cpu.weight", "cpu.shares")
        print(f"  cpu: {cpu} {name}={value}; GetStatus {status['cpu_weight']}")
        if name == "cpu.weight":
            self.assertEqual(int(value), 40)
        elif name == "cpu.shares":
            self.assertEqual(int(value), 40 * 1024 // 100, "systemd maps CPUWeight= to shares")
        self.assertEqual(status["cpu_weight"]["enforced"], name is not None, status["cpu_weight"])
        if name is None:
            self.assertIn("no cpu controller", status["cpu_weight"]["why"])

        io = cgroups.controller_dir(group, "io") or cgroups.controller_dir(group, "blkio")
        name, value = read_first(io, "io.weight", "io.bfq.weight", "blkio.weight",
                                 "blkio.bfq.weight")
        print(f"  io: {io} {name}={value}; GetStatus {status['io_weight']}")
        if name == "io.weight":
            self.assertIn("default 30", value)
        # systemd writes IOWeight= on v1 as blkio.weight only; a BFQ-only kernel's
        # blkio.bfq.weight is left as it was, so the guard must not call it enforced.
        written = name in ("io.weight", "io.bfq.weight", "blkio.weight")
        self.assertEqual(status["io_weight"]["enforced"], written, status["io_weight"])
        if name is None:
            self.assertIn("no io controller", status["io_weight"]["why"])
        elif name == "blkio.bfq.weight":
            self.assertIn("only blkio.bfq.weight", status["io_weight"]["why"])

        # A reload reaches the running unit without a restart.
        configure(s.fast_sampling_config(workspaces={"default": dict(CONTROLS, cpu_weight=60)}))
        s.wait_until(lambda: s.unit_property(self.unit, "CPUWeight") == "60", 20,
                     f"{self.unit}'s CPUWeight to follow the reload to 60")
        self.assertEqual(int(s.unit_property(self.unit, "MainPID")), pid)

    def test_a_unit_killed_for_memory_max_is_reported_as_its_own_event(self):
        monitor = s.SignalMonitor(f"type='signal',interface='{s.WORKSPACE_IFACE}',"
                                  f"member='OomKilled'")
        try:
            # Far below what gopls needs to start. A v1 limit below the usage of a running
            # gopls is refused by the kernel (EBUSY) rather than enforced, so the limit goes on
            # first and gopls starts under it.
            limit = 8 << 20
            configure(s.fast_sampling_config(
                workspaces={"default": dict(CONTROLS, memory_max=limit)}))
            s.wait_until(lambda: s.unit_property(self.unit, "MemoryMax") == str(limit), 20,
                         f"MemoryMax={limit} on {self.unit}")
            # Its outcome does not matter: gopls dies of the limit soon after it started.
            s.systemctl("restart", self.unit, check=False)
            path, data = monitor.wait_for(
                "OomKilled", lambda p, d: p == self.obj, 60,
                f"for {self.obj} after MemoryMax={limit} "
                f"({s.unit_properties(self.unit, 'ActiveState', 'NRestarts', 'Result')})")
            self.assertIn(f"memory_max is {limit} bytes", data[0])
            workspace = s.workspace_status(self.root)
            self.assertGreaterEqual(workspace["oom_kills"]["count"], 1, workspace["oom_kills"])
            # systemd restarts it a second later, and that restart is counted as after a crash.
            s.wait_until(lambda: s.workspace_property(self.obj, "Restarts") >= 1, 20,
                         "the workspace's Restarts to count systemd's restart after the kill")
            entries = s.journal("ACTION=oom-kill")
            self.assertTrue(any(e.get("WORKSPACE") == self.root for e in entries),
                            f"no journal line with ACTION=oom-kill and WORKSPACE={self.root}")
        finally:
            monitor.close()
            configure(s.fast_sampling_config(workspaces={"default": dict(CONTROLS)}))


class OomPreference(unittest.TestCase):
    def setUp(self):
        s.enable_guard()
        configure(s.fast_sampling_config())
        self.root = s.copy_fixture_module("hello", "hello-oom")
        self.obj, self.unit, self.socket = s.add_and_wait(self.root)
        s.run(s.GOPLS, f"-remote=unix;{self.socket}", "check",
              os.path.join(self.root, "greet", "greet.go"), timeout=120, cwd=self.root)
        self.manager = cgroups.controller_dir(s.user_manager_control_group(), "memory")
        if self.manager is None:
            reason = "the user manager's cgroup has no memory controller here"
            if os.environ.get("CI") == "true":
                self.fail(reason + " (CI=true: the end-to-end tests must not skip)")
            self.skipTest(reason)
        self.v2 = os.path.exists(os.path.join(self.manager, "memory.max"))
        self.limit_file = os.path.join(self.manager,
                                       "memory.max" if self.v2 else "memory.limit_in_bytes")

    def tearDown(self):
        s.run("systemctl", "--user", "stop", "wslgo-e2e-balloon.service", check=False)
        if getattr(self, "limit_file", None):
            with open(self.limit_file, "w") as f:
                f.write("max" if self.v2 else "-1")

    def anon_bytes(self):
        """The anonymous memory of the whole user manager subtree (not the reclaimable cache)."""
        with open(os.path.join(self.manager, "memory.stat")) as f:
            stat = dict(line.split() for line in f if len(line.split()) == 2)
        return int(stat["anon"]) if self.v2 else int(stat["total_rss"])

    def test_under_memory_pressure_the_kernel_kills_gopls_before_a_larger_balloon(self):
        pid = int(s.unit_property(self.unit, "MainPID"))
        restarts = int(s.unit_property(self.unit, "NRestarts"))
        self.assertEqual(s.oom_score_adj(pid), 500, "the shipped default oom_score_adjust")
        gopls_rss = s.proc_status_kib(pid, "VmRSS") << 10
        # Reclaim the cache first, so the limit bounds anonymous memory the way we reckon it.
        reclaim = os.path.join(self.manager, "memory.reclaim" if self.v2 else "memory.force_empty")
        try:
            with open(reclaim, "w") as f:
                f.write(str(1 << 40) if self.v2 else "0")
        except OSError:
            pass
        anon = self.anon_bytes()  # for the record: the cache is reclaimed, usage is anon
        usage = s.read_int(os.path.join(self.manager,
                                        "memory.current" if self.v2 else "memory.usage_in_bytes"))
        # Room for a balloon 1.5 times gopls' size: by size alone (oom_score_adj 0 on both) it
        # would be the kernel's choice; gopls' 500 adds half the limit to its score, which
        # outweighs the balloon's lead. Not more room: under pressure gopls' RSS shrinks (its
        # file pages are reclaimed, Go returns heap), the balloon grows into what it gives up,
        # and with twice gopls' room a gopls shrunk by a quarter already lost (seen in CI).
        # With 1.5 it still wins shrunk to 62 % of its size.
        limit = usage + gopls_rss * 3 // 2
        print(f"\n  user manager {self.manager}: usage {usage >> 20} MiB, anon {anon >> 20} MiB, "
              f"gopls VmRSS {gopls_rss >> 20} MiB, limit {limit >> 20} MiB")
        with open(self.limit_file, "w") as f:
            f.write(str(limit))
        result = os.path.join(s.ROOT, "balloon.result")
        s.run("systemd-run", "--user", "--unit=wslgo-e2e-balloon", "--collect",
              "-p", "OOMScoreAdjust=0", "python3", "-c", BALLOON, str(pid), result,
              str(2 * limit))

        def outcome():
            if os.path.exists(result):
                with open(result) as f:
                    return f.read().strip() or None
            state = s.unit_properties("wslgo-e2e-balloon.service", "ActiveState", "Result")
            if state["ActiveState"] in ("failed", "inactive") and not os.path.exists(result):
                return f"balloon ended first: {state}"
            return None

        seen = s.wait_until(outcome, 90, f"the OOM killer to act in {self.manager} "
                                         f"(limit {limit}, gopls PID {pid})")
        print(f"  balloon: {seen}")
        self.assertTrue(seen.startswith("gopls-gone"),
                        f"the kernel should have killed gopls (oom_score_adj 500) first: {seen}")
        # The balloon was the larger: size alone would have picked it.
        self.assertGreater(int(seen.split()[1]) << 20, gopls_rss * 6 // 5, seen)
        self.assertFalse(s.pid_alive(pid))
        with open(self.limit_file, "w") as f:
            f.write("max" if self.v2 else "-1")
        now = s.wait_until(
            lambda: (lambda p: p if int(p["NRestarts"]) > restarts
                     and p["MainPID"] not in ("0", str(pid)) and p["ActiveState"] == "active"
                     else None)(s.unit_properties(self.unit, "NRestarts", "MainPID",
                                                  "ActiveState", "Result")),
            30, f"systemd to restart {self.unit} after the OOM kill of {pid}")
        self.assertEqual(s.oom_score_adj(int(now["MainPID"])), 500)


if __name__ == "__main__":
    unittest.main()
