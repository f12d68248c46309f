"""Scenario 6: `systemctl --user reload` with an invalid config fails, keeps the old one and says
why on the bus; a fixed file then reloads."""

import os
import unittest

from harness import session as s


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


if __name__ == "__main__":
    unittest.main()
