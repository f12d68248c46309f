"""Scenario 6: `systemctl --user reload` with an invalid config fails, keeps the old one and says
why on the bus; a fixed file then reloads. What a reload changed reaches gopls at its next
restart."""

import os
import unittest

from harness import session as s


def environ(pid):
    """The environment gopls runs with, from /proc/PID/environ."""
    with open(f"/proc/{pid}/environ", "rb") as f:
        pairs = [entry.split(b"=", 1) for entry in f.read().split(b"\0") if b"=" in entry]
    return {key.decode(): value.decode(errors="replace") for key, value in pairs}


def gopls_pid(unit, other_than=None):
    """The unit's MainPID once it is gopls itself (the launcher execs it), not `other_than`."""
    def probe():
        pid = int(s.unit_property(unit, "MainPID"))
        if pid in (0, other_than):
            return None
        try:
            with open(f"/proc/{pid}/comm") as f:
                return pid if f.read().strip() == "gopls" else None
        except FileNotFoundError:
            return None
    return s.wait_until(probe, 60, f"{unit} to run gopls"
                        + (f" other than PID {other_than}" if other_than else ""))


class Reload(unittest.TestCase):
    def test_an_invalid_config_is_refused_by_name_and_the_old_one_stays(self):
        s.write_user_config({"guard": {"sample_interval": "3s"}})
        s.enable_guard()
        self.assertEqual(s.get_property("SampleIntervalUSec"), 3_000_000)
        monitor = s.SignalMonitor(
            f"type='signal',interface='{s.MANAGER_IFACE}',member='ConfigReloaded'")
        try:
            s.write_user_config({"guard": {"sample_intervall": "1s"}})
            refused = s.systemctl("reload", s.GUARD, check=False)
            self.assertNotEqual(refused.returncode, 0,
                                "systemctl --user reload succeeded with a rejected config")
            _, (ok, message) = monitor.wait_for("ConfigReloaded", lambda p, d: True, 20,
                                                "after the reload")
            self.assertFalse(ok, f"an invalid config was accepted: {message}")
            self.assertIn("/guard/sample_intervall", message)
            self.assertIn("config.json", message)
            self.assertEqual(s.unit_property(s.GUARD, "ActiveState"), "active")
            self.assertEqual(s.get_property("SampleIntervalUSec"), 3_000_000,
                             "the old configuration did not stay")

            s.write_user_config({"guard": {"sample_interval": "4s"}})
            s.systemctl("reload", s.GUARD)
            _, (ok, message) = monitor.wait_for("ConfigReloaded", lambda p, d: d[0], 20,
                                                "with ok=true after fixing the file")
            self.assertIn(os.path.join(s.CONFIG_HOME, "wslgo-guard", "config.json"), message)
            self.assertEqual(s.get_property("SampleIntervalUSec"), 4_000_000)
        finally:
            monitor.close()

    def test_what_a_reload_changed_reaches_gopls_at_its_restart(self):
        """gomemlimit changed in the file, `systemctl --user reload`, then the workspace's
        Restart over the bus: the new gopls has the new GOMEMLIMIT (it kept the old one)."""
        s.write_user_config({"workspaces": {"default": {"gomemlimit": "300M"}}})
        s.enable_guard()
        s.systemctl("reload", s.GUARD)  # in force even when another test started the guard
        root = s.copy_fixture_module("hello", "reload_gomemlimit")
        obj, unit, _ = s.add_and_wait(root)
        first = gopls_pid(unit)
        self.assertEqual(environ(first).get("GOMEMLIMIT"), str(300 << 20))

        s.write_user_config({"workspaces": {"default": {"gomemlimit": "400M"}}})
        s.systemctl("reload", s.GUARD)
        # The running gopls keeps its environment until it restarts.
        self.assertEqual(environ(first).get("GOMEMLIMIT"), str(300 << 20))
        s.call("Restart", "s", "e2e: pick up the reloaded gomemlimit", path=obj,
               interface=s.WORKSPACE_IFACE, timeout=90)
        second = gopls_pid(unit, other_than=first)
        self.assertEqual(environ(second).get("GOMEMLIMIT"), str(400 << 20),
                         f"gopls (PID {second}) did not get the reloaded gomemlimit")


if __name__ == "__main__":
    unittest.main()
