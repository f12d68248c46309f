"""Scenario 13: the user manager reloaded (daemon-reload) and re-executed (daemon-reexec) under
the guard. After each the guard is the same process, answers, still guards its workspace, and
still follows gopls: a gopls killed afterwards is restarted by systemd and the workspace's
MainPID follows, which needs the guard's view of the unit to have survived the manager's
re-execution. Nothing in the home outside the guard's own directories changed."""

import os
import signal
import unittest

from harness import session as s


def systemd_bus_owner():
    """The unique bus name that owns org.freedesktop.systemd1 now, "" when none."""
    done = s.run("busctl", "--user", "call", "org.freedesktop.DBus", "/org/freedesktop/DBus",
                 "org.freedesktop.DBus", "GetNameOwner", "s", "org.freedesktop.systemd1",
                 check=False)
    return done.stdout.split()[-1].strip('"') if done.returncode == 0 else ""


class ManagerReexec(unittest.TestCase):
    def setUp(self):
        s.write_user_config(s.fast_sampling_config())
        self.guard_pid = s.enable_guard()
        self.root = s.copy_fixture_module("hello", self._testMethodName)
        self.obj, self.unit, self.socket = s.add_and_wait(self.root)
        self.outside = s.home_outside_guard()

    def nothing_else_changed(self, after):
        self.assertEqual(s.tree_changes(self.outside, s.home_outside_guard()), [],
                         f"the home outside the guard's directories after {after}")

    def still_guarding(self, after):
        self.assertEqual(int(s.unit_property(s.GUARD, "MainPID")), self.guard_pid,
                         f"the guard was restarted by {after}")
        status = s.status()
        self.assertEqual(status["state"], "ok", f"GetStatus after {after}: {status}")
        self.assertIn(self.root, [w["path"] for w in status["workspaces"]])
        s.wait_active(self.unit, 30)
        # A new sample reached the workspace after the manager came back.
        s.wait_until(lambda: s.workspace_property(self.obj, "RSS") > 0, 20,
                     f"the workspace to be sampled after {after}")

    def follows_a_killed_gopls(self, after):
        old_pid = int(s.unit_property(self.unit, "MainPID"))
        os.kill(old_pid, signal.SIGKILL)

        def restarted():
            now = s.unit_properties(self.unit, "MainPID", "ActiveState")
            return (int(now["MainPID"]) if now["ActiveState"] == "active"
                    and now["MainPID"] not in ("0", str(old_pid)) else None)

        new_pid = s.wait_until(restarted, 30, f"systemd to restart gopls after {after}")
        s.wait_until(lambda: s.workspace_property(self.obj, "MainPID") == new_pid, 20,
                     f"the workspace's MainPID to follow {old_pid} -> {new_pid} after {after}")

    def test_daemon_reload_under_the_guard(self):
        s.systemctl("daemon-reload")
        self.still_guarding("daemon-reload")
        self.follows_a_killed_gopls("daemon-reload")
        self.nothing_else_changed("daemon-reload")

    def test_daemon_reexec_under_the_guard(self):
        # A re-executed manager connects to the bus again, under a new unique name: proof that
        # it did, and what the guard has to follow.
        owner = systemd_bus_owner()
        s.systemctl("daemon-reexec", timeout=90)
        s.wait_until(lambda: s.systemctl("is-system-running", check=False).stdout.strip()
                     in ("running", "degraded"), 30, "the user manager to be back")
        s.wait_until(lambda: systemd_bus_owner() not in ("", owner), 30,
                     f"org.freedesktop.systemd1 to have a new owner after daemon-reexec ({owner})")
        self.still_guarding("daemon-reexec")
        self.follows_a_killed_gopls("daemon-reexec")
        self.nothing_else_changed("daemon-reexec")
        # And the guard can still ask systemd for something new.
        second = s.copy_fixture_module("hello", "after-reexec")
        s.add_and_wait(second)


if __name__ == "__main__":
    unittest.main()
