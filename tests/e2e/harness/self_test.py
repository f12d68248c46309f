"""The harness alone: the private manager boots, runs a unit in its own cgroup, logs it."""

import os
import unittest

from harness import cgroups
from harness import session as s

# A pure cgroup v2 host (Debian 12 on systemd) and this machine's hybrid layout, from
# /proc/self/mountinfo and /proc/self/cgroup.
PURE_V2_MOUNTINFO = (
    "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n")
PURE_V2_CGROUP = "0::/user.slice/user-1000.slice/session-2.scope\n"
HYBRID_MOUNTINFO = (
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n")
HYBRID_CGROUP = ("9:name=systemd:/\n4:memory:/process_api/55b0\n1:cpuacct,cpu:/\n0::/\n")


class LayoutDetection(unittest.TestCase):
    def test_a_pure_v2_host_has_one_hierarchy_found_by_the_empty_key(self):
        [h] = cgroups.parse_mountinfo(PURE_V2_MOUNTINFO)
        self.assertEqual((h.mount_point, h.version, h.key), ("/sys/fs/cgroup", 2, ""))
        paths = cgroups.parse_proc_cgroup(PURE_V2_CGROUP)
        self.assertEqual(h.directory(paths[h.key]),
                         "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope")

    def test_hybrid_v1_hierarchies_match_their_proc_cgroup_lines_whatever_the_order(self):
        hierarchies = cgroups.parse_mountinfo(HYBRID_MOUNTINFO)
        paths = cgroups.parse_proc_cgroup(HYBRID_CGROUP)
        found = {h.mount_point: h.directory(paths[h.key]) for h in hierarchies}
        self.assertEqual(found, {
            "/sys/fs/cgroup/memory": "/sys/fs/cgroup/memory/process_api/55b0",
            "/sys/fs/cgroup/systemd": "/sys/fs/cgroup/systemd/",
            "/sys/fs/cgroup/cpu,cpuacct": "/sys/fs/cgroup/cpu,cpuacct/",
            "/sys/fs/cgroup/unified": "/sys/fs/cgroup/unified/",
        })

    def test_a_mount_of_a_cgroup_namespace_root_strips_that_root(self):
        [h] = cgroups.parse_mountinfo(
            "50 40 0:30 /ctr /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")
        self.assertEqual(h.directory("/ctr/a.scope"), "/sys/fs/cgroup/a.scope")


class PrivateUserManager(unittest.TestCase):
    def test_the_private_manager_runs_from_the_temporary_home(self):
        env = s.systemctl("show-environment").stdout
        self.assertIn(f"XDG_RUNTIME_DIR={s.RUNTIME_DIR}", env)
        self.assertIn(f"HOME={s.HOME}", env)
        self.assertTrue(s.RUNTIME_DIR.startswith(s.ROOT), s.RUNTIME_DIR)

    def test_the_manager_passes_the_gopls_under_test_and_its_path_to_units(self):
        env = dict(line.partition("=")[::2]
                   for line in s.systemctl("show-environment").stdout.splitlines())
        self.assertEqual(env.get("GOPLS"), s.GOPLS)
        self.assertEqual(env.get("PATH"), os.environ["PATH"])

    def test_the_session_bus_is_the_managers_dbus_socket(self):
        self.assertEqual(s.unit_property("dbus.socket", "ActiveState"), "active")
        names = [n["name"] for n in s.busctl_json("list")]
        self.assertIn("org.freedesktop.systemd1", names)

    def test_a_transient_unit_gets_its_own_cgroup_with_memory_accounting_and_journal(self):
        # As root, or as a normal user where memory is a cgroup2 controller, a unit gets a
        # memory cgroup of its own; a normal user on a hybrid or v1 host gets none (systemd shows
        # MemoryCurrent unset), as with a real user@.service.
        s.run("systemd-run", "--user", "--unit=e2e-hello", "--property=MemoryAccounting=yes",
              "sh", "-c", "echo hello from the e2e unit; exec sleep 60")
        try:
            s.wait_active("e2e-hello.service", 15)
            props = s.unit_properties("e2e-hello.service", "ControlGroup", "MainPID",
                                      "MemoryCurrent")
            self.assertTrue(props["ControlGroup"].endswith("/app.slice/e2e-hello.service"), props)
            with open(f"/proc/{props['MainPID']}/cgroup") as f:
                self.assertIn(props["ControlGroup"], f.read())
            if s.units_get_memory_cgroups():
                self.assertTrue(
                    props["MemoryCurrent"].isdigit() and int(props["MemoryCurrent"]) > 0,
                    f"no memory accounting for the unit: {props}")
                self.assertNotEqual(s.unit_memory_source(props["ControlGroup"])[0], "process-rss",
                                    f"no memory cgroup for the unit: {props}")
            else:
                self.assertEqual(props["MemoryCurrent"], "[not set]", props)
                self.assertEqual(s.unit_memory_source(props["ControlGroup"]),
                                 ("process-rss", None), props)
            s.wait_until(
                lambda: [e for e in s.journal(unit="e2e-hello.service")
                         if e.get("MESSAGE") == "hello from the e2e unit"],
                10, "the unit's stdout in the journal under its user unit name")
        finally:
            s.systemctl("stop", "e2e-hello.service", check=False)

    def test_the_session_s_user_owns_its_runtime_directory_and_its_manager_s_cgroup(self):
        # The user is root, or the normal user of `run --as-user` with a delegated cgroup.
        runtime = os.stat(s.RUNTIME_DIR)
        self.assertEqual((runtime.st_uid, runtime.st_mode & 0o777), (os.getuid(), 0o700))
        control_group = s.unit_property("init.scope", "ControlGroup")
        [manager] = s.cgroup_pids(control_group)
        self.assertEqual(s.proc_status_ids(manager, "Uid"), [os.getuid()] * 4,
                         "the manager runs as another user")
        # The manager made init.scope itself, inside the cgroup the harness delegated to it.
        self.assertEqual(os.stat(os.path.dirname(s.cgroup_procs_path(control_group))).st_uid,
                         os.getuid(), f"{control_group} is not the session user's")

    def test_the_manager_runs_in_the_harness_s_own_cgroup_subtree(self):
        slice_dirs = os.environ["WSLGO_E2E_CGROUPS"].split(":")
        leaf = f"{os.path.basename(slice_dirs[0])}/user@{os.getuid()}.service/init.scope"
        control_group = s.unit_property("init.scope", "ControlGroup")
        self.assertTrue(control_group.endswith(leaf), f"{control_group} is not in {leaf}")
        self.assertTrue(any(os.path.isdir(os.path.join(d, leaf.split("/", 1)[1]))
                            for d in slice_dirs), slice_dirs)


class HomeOutsideGuard(unittest.TestCase):
    """home_outside_guard, which the fault scenarios compare before and after: it sees a change
    anywhere in HOME but in the directories it leaves out."""

    def test_it_sees_every_change_but_in_the_guard_s_own_directories(self):
        mine = os.path.join(s.HOME, "src", "self-test")
        os.makedirs(mine)
        with open(os.path.join(mine, "go.mod"), "w") as f:
            f.write("module example.com/selftest\n")
        before = s.home_outside_guard()
        self.assertIn("src/self-test/go.mod", before)

        guard_state = os.path.join(s.STATE_HOME, "wslgo-guard")
        os.makedirs(guard_state, exist_ok=True)
        with open(os.path.join(guard_state, "self-test"), "w") as f:
            f.write("the guard's own")
        os.makedirs(os.path.join(s.HOME, ".cache", "gopls", "self-test"), exist_ok=True)
        self.assertEqual(s.tree_changes(before, s.home_outside_guard()), [])

        with open(os.path.join(mine, "go.mod"), "a") as f:
            f.write("go 1.21\n")
        with open(os.path.join(s.HOME, "stray"), "w") as f:
            f.write("not the guard's")
        changes = s.tree_changes(before, s.home_outside_guard())
        self.assertIn("added stray", changes)
        self.assertTrue(any(c.startswith("changed src/self-test/go.mod") for c in changes),
                        changes)
        os.remove(os.path.join(mine, "go.mod"))
        self.assertIn("removed src/self-test/go.mod",
                      s.tree_changes(before, s.home_outside_guard()))


if __name__ == "__main__":
    unittest.main()
