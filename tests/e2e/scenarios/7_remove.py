"""Scenario 7: RemoveWorkspace stops the unit; `disable --now wslgo-guard wslgo-lsp.socket` leaves
nothing running but keeps the user's config and heap profiles."""

import glob
import os
import unittest

from harness import session as s


class RemoveAndDisable(unittest.TestCase):
    def test_remove_then_disable_now_leaves_only_what_the_user_keeps(self):
        s.write_user_config(s.fast_sampling_config())
        config = os.path.join(s.CONFIG_HOME, "wslgo-guard", "config.json")
        guard_pid = s.enable_guard()
        root = s.copy_fixture_module("hello")
        obj, unit, socket = s.add_and_wait(root)
        profile = s.call("CaptureHeapProfile", path=obj, interface=s.WORKSPACE_IFACE)[0]
        self.assertTrue(os.path.isfile(profile), profile)

        s.call("RemoveWorkspace", "s", root)
        s.wait_inactive(unit, 30)
        self.assertNotEqual(s.call_fails("GetWorkspace", "s", root).returncode, 0,
                            "the workspace is still guarded after RemoveWorkspace")

        # The guard's [Install] has Also=wslgo-lsp.socket, so disabling it disables the
        # keeper's socket too; --now stops only the units named (systemd 252), hence both.
        s.systemctl("disable", "--now", s.GUARD, "wslgo-lsp.socket")
        s.wait_inactive(s.GUARD, 30)
        for unit_name in (s.GUARD, "wslgo-lsp.socket"):
            self.assertEqual(s.systemctl("is-enabled", unit_name, check=False).stdout.strip(),
                             "disabled", unit_name)
        s.wait_inactive("wslgo-lsp.socket", 30)
        self.assertFalse(os.path.exists(f"/proc/{guard_pid}"), "the guard process still runs")
        self.assertFalse(s.bus_name_owned(), "org.wslgo.Guard1 is still owned")
        running = s.systemctl("list-units", "--no-legend", "--plain", "--state=active",
                              "wslgo-gopls@*").stdout.strip()
        self.assertEqual(running, "", f"gopls units left running: {running}")
        sockets = glob.glob(os.path.join(s.RUNTIME_DIR, "wslgo-guard", "*.sock"))
        self.assertEqual(sockets, [], "sockets left under $XDG_RUNTIME_DIR/wslgo-guard")

        self.assertTrue(os.path.isfile(config), "the user's config.json was removed")
        self.assertTrue(os.path.isfile(profile), "the heap profile was removed")


if __name__ == "__main__":
    unittest.main()
