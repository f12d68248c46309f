"""Scenario 1: enable --now, READY, the bus name, the introspected API, D-Bus activation."""

import os
import unittest
import xml.etree.ElementTree as ET

from harness import session as s


def members(interface):
    return {kind: sorted(e.get("name") for e in interface.findall(kind))
            for kind in ("method", "property", "signal")}


def interface_of(xml_text, name):
    for interface in ET.fromstring(xml_text).findall("interface"):
        if interface.get("name") == name:
            return interface
    return None


class EnableNow(unittest.TestCase):
    def test_enable_now_starts_the_guard_owning_its_name_with_the_api_of_the_xml(self):
        pid = s.enable_guard()
        self.assertEqual(s.systemctl("is-enabled", s.GUARD).stdout.strip(), "enabled")
        props = s.unit_properties(s.GUARD, "Type", "StatusText", "ActiveState", "FragmentPath")
        self.assertTrue(props["FragmentPath"].startswith(s.PREFIX),
                        f"the unit is not the one installed into {s.PREFIX}: {props}")
        if os.environ.get("WSLGO_E2E_INSTALLED") == "1":
            # run --installed: the package's unit, found among the vendor's user units.
            self.assertEqual(props["FragmentPath"], "/usr/lib/systemd/user/wslgo-guard.service")
        if props["Type"] == "notify":
            # Active means READY=1 arrived; the guard also reports STATUS=.
            self.assertTrue(props["StatusText"], f"no STATUS= from the guard: {props}")
        self.assertEqual(s.wait_until(s.bus_name_owned, 10, "org.wslgo.Guard1 to be owned"), pid,
                         "org.wslgo.Guard1 is not owned by the unit's MainPID")
        # The user's own manager runs the guard as that user: root, or with `run --as-user` the
        # normal user the scenario runs as.
        self.assertEqual(s.proc_status_ids(pid, "Uid"), [os.getuid()] * 4)

        human = s.run("busctl", "--user", "introspect", s.BUS_NAME, s.MANAGER_PATH).stdout
        self.assertIn(s.MANAGER_IFACE, human)
        live = s.run("busctl", "--user", "introspect", "--xml-interface", s.BUS_NAME,
                     s.MANAGER_PATH).stdout
        with open(os.path.join(s.SOURCE, "daemon", "org.wslgo.Guard1.xml")) as f:
            contract = f.read()
        want = members(interface_of(contract, s.MANAGER_IFACE))
        got_interface = interface_of(live, s.MANAGER_IFACE)
        self.assertIsNotNone(got_interface, f"{s.MANAGER_IFACE} is not introspectable:\n{live}")
        self.assertEqual(members(got_interface), want)
        self.assertEqual(s.get_property("Version"), s.status()["version"])

    def test_a_bus_call_to_a_stopped_guard_starts_it_again(self):
        first = s.enable_guard()
        s.systemctl("stop", s.GUARD)
        s.wait_inactive(s.GUARD, 30)
        self.assertFalse(s.bus_name_owned(), "the name is still owned after stop")
        status = s.status()  # activation: the bus starts wslgo-guard.service for this call
        self.assertEqual(status["schema_version"], 1)
        s.wait_active(s.GUARD, 30)
        second = int(s.unit_property(s.GUARD, "MainPID"))
        self.assertNotEqual(second, first, "the same guard process answered after stop")
        self.assertEqual(s.bus_name_owned(), second)


if __name__ == "__main__":
    unittest.main()
