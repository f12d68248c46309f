"""Scenario 4: kill -9 of gopls; systemd restarts it and the guard notices; a crash loop hits the
guard's rate limit and the workspace reads "degraded"."""

import os
import signal
import unittest

from harness import session as s

LOW_RATE_LIMIT = {"actions": {"restart": {"max_restarts": 2, "window": "10m"}}}


def kill_and_wait_for_restart(unit, obj):
    before = s.unit_properties(unit, "MainPID", "NRestarts")
    pid, restarts = int(before["MainPID"]), int(before["NRestarts"])
    os.kill(pid, signal.SIGKILL)

    def restarted():
        now = s.unit_properties(unit, "MainPID", "NRestarts", "ActiveState")
        if int(now["NRestarts"]) > restarts and now["MainPID"] not in ("0", str(pid)):
            return now
        return None

    return pid, restarts, s.wait_until(restarted, 30, f"systemd to restart {unit} after kill -9")


class CrashLoop(unittest.TestCase):
    def setUp(self):
        s.write_user_config(s.fast_sampling_config(**LOW_RATE_LIMIT))
        s.enable_guard()
        self.root = s.copy_fixture_module("hello", self._testMethodName)
        self.obj, self.unit, self.socket = s.add_and_wait(self.root)

    def test_a_killed_gopls_is_restarted_by_systemd_and_the_guard_follows(self):
        old_pid, old_restarts, now = kill_and_wait_for_restart(self.unit, self.obj)
        new_pid = int(now["MainPID"])
        s.wait_until(lambda: s.workspace_property(self.obj, "MainPID") == new_pid, 20,
                     f"the workspace's MainPID to follow {old_pid} -> {new_pid}")
        s.wait_until(lambda: s.workspace_property(self.obj, "Restarts") > old_restarts, 20,
                     "the workspace's Restarts to count systemd's restart")

    def test_a_crash_loop_leaves_the_workspace_degraded(self):
        for _ in range(4):
            s.wait_active(self.unit, 30)
            kill_and_wait_for_restart(self.unit, self.obj)
        state = s.wait_until(
            lambda: (lambda v: v if v == "degraded" else None)(
                s.workspace_property(self.obj, "State")),
            20, "the workspace State to read degraded")
        self.assertEqual(state, "degraded")


if __name__ == "__main__":
    unittest.main()
