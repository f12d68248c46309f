"""Scenario 5: restarting or killing the guard leaves gopls running; the guard re-adopts it and
the registry (state.json) survives."""

import json
import os
import signal
import unittest

from harness import session as s


def registry_roots():
    with open(os.path.join(s.STATE_HOME, "wslgo-guard", "state.json")) as f:
        text = f.read()
    return text, [w.get("path") for w in json.loads(text).get("workspaces", [])]


class GuardRestart(unittest.TestCase):
    def setUp(self):
        s.write_user_config(s.fast_sampling_config())
        s.enable_guard()
        self.root = s.copy_fixture_module("hello", self._testMethodName)
        self.obj, self.unit, self.socket = s.add_and_wait(self.root)
        self.gopls_pid = int(s.unit_property(self.unit, "MainPID"))

    def assert_readopted(self, how):
        self.assertEqual(int(s.unit_property(self.unit, "MainPID")), self.gopls_pid,
                         f"gopls did not keep its MainPID across {how}")
        obj = s.wait_until(lambda: s.workspace_object(self.root), 20,
                           f"the workspace object after {how}")
        self.assertEqual(obj, self.obj)
        s.wait_until(lambda: s.workspace_property(obj, "MainPID") == self.gopls_pid, 20,
                     f"the re-adopted workspace's MainPID to be {self.gopls_pid} after {how}")
        _, roots = registry_roots()
        self.assertIn(self.root, roots, f"state.json lost the workspace across {how}")

    def test_systemctl_restart_of_the_guard_keeps_gopls_and_readopts_it(self):
        guard_pid = int(s.unit_property(s.GUARD, "MainPID"))
        s.systemctl("restart", s.GUARD)
        s.wait_active(s.GUARD, 30)
        self.assertNotEqual(int(s.unit_property(s.GUARD, "MainPID")), guard_pid)
        self.assert_readopted("systemctl --user restart wslgo-guard")

    def test_a_guard_killed_with_sigkill_comes_back_and_readopts_gopls(self):
        guard_pid = int(s.unit_property(s.GUARD, "MainPID"))
        os.kill(guard_pid, signal.SIGKILL)
        s.wait_until(lambda: s.unit_property(s.GUARD, "MainPID") not in ("0", str(guard_pid))
                     and s.unit_property(s.GUARD, "ActiveState") == "active", 30,
                     "Restart=on-failure to bring the guard back after kill -9")
        self.assert_readopted("kill -9 of the guard")


if __name__ == "__main__":
    unittest.main()
