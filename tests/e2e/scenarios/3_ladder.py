"""Scenario 3: with low thresholds the ladder runs GC, then trim (where it can work), then
restart, each seen as an ActionTaken signal and in the journal; the heap profile is a gzip pprof;
gopls serves again."""

import glob
import gzip
import os
import unittest

from harness import session as s

LADDER = ["gc", "trim", "restart"]

# Below any gopls (tens of MiB), so the workspace is at high as soon as gopls runs. Critical is
# off: at critical the engine would jump straight to the restart rung.
LOW_THRESHOLDS = {
    "workspaces": {"default": {
        "memory": {"warning": "2M", "high": "4M", "critical": None, "sustain": "500ms",
                   "exclude_inactive_file": False},
        "growth": {"bytes_per_minute": None},
    }},
    "actions": {
        "settle": "2s",
        "gc": {"cooldown": "1h"},
        "trim": {"cooldown": "1h"},
        "restart": {"cooldown": "1h", "save_profile": True},
    },
}


class Ladder(unittest.TestCase):
    def test_gc_then_trim_then_restart_each_signalled_and_journalled_then_gopls_serves(self):
        root = s.copy_fixture_module("hello")
        s.enable_guard()
        monitor = s.SignalMonitor(
            f"type='signal',interface='{s.WORKSPACE_IFACE}',member='ActionTaken'")
        try:
            # Thresholds go live only after the workspace runs, so the first rung is not missed
            # while the unit starts.
            obj, unit, socket = s.add_and_wait(root)
            first_pid = int(s.unit_property(unit, "MainPID"))
            # The ladder acts on the workspace's memory figure: its cgroup's as root, the summed
            # VmRSS of its processes as a normal user on a hybrid host (no memory cgroup).
            source = s.unit_memory_source(s.unit_property(unit, "ControlGroup"))[0]
            s.wait_until(lambda: s.workspace_status(root)["memory_source"] == source, 20,
                         f"GetStatus' memory_source to be {source}")
            # Trim works on gopls' file cache, which a current gopls keeps (v0.12 on) and
            # Debian's (the 0.5.0 line) does not, or through memory.reclaim. Where neither is
            # there the guard skips the rung and says so in the restart's reason.
            trim_can_work = (not s.is_old_gopls()
                             or s.cgroup_reclaim_available(s.unit_property(unit, "ControlGroup")))
            ladder = LADDER if trim_can_work else ["gc", "restart"]
            s.write_user_config(s.fast_sampling_config(**LOW_THRESHOLDS))
            s.systemctl("reload", s.GUARD)
            for action in ladder:
                monitor.wait_for("ActionTaken", lambda path, data, a=action: data[0] == a, 90,
                                 f"for {action}")
            signals = [data for path, data in monitor.signals("ActionTaken") if path == obj]
            actions = [data[0] for data in signals]
            self.assertEqual(actions[:len(ladder)], ladder, f"ActionTaken order: {actions}")
            results = {data[0]: data[1] for data in signals}
            # A trim may find nothing to do on a fresh home; it still counts as the rung taken.
            # GC and restart always can.
            self.assertEqual((results["gc"], results["restart"]), ("done", "done"), results)
            if not trim_can_work:
                self.assertNotIn("trim", actions)
                restart_reason = next(data[4] for data in signals if data[0] == "restart")
                self.assertIn("trim skipped", restart_reason)
        finally:
            monitor.close()

        outcomes = {a: f"{a} {results[a]}" for a in ladder}
        journalled = [e.get("ACTION") for e in s.journal()
                      if e.get("ACTION") in ladder
                      and outcomes[e["ACTION"]] in e.get("MESSAGE", "")]
        self.assertEqual(journalled[:len(ladder)], ladder,
                         f"the journal's action outcomes ({s.GUARD}, field ACTION): {journalled}")

        profiles = glob.glob(os.path.join(s.STATE_HOME, "wslgo-guard", "profiles", "**",
                                          "*.pb.gz"), recursive=True)
        self.assertTrue(profiles, "no heap profile under $XDG_STATE_HOME/wslgo-guard/profiles")
        with gzip.open(profiles[0]) as f:
            proto = f.read()
        self.assertGreater(len(proto), 0, f"{profiles[0]} holds an empty pprof")

        s.wait_active(unit, 60)
        second_pid = int(s.unit_property(unit, "MainPID"))
        self.assertNotEqual(second_pid, first_pid, "gopls was not restarted")
        s.wait_until(lambda: os.path.exists(socket), 60, f"the restarted gopls' socket {socket}")
        main = os.path.join(root, "cmd", "hello", "main.go")
        line, column = s.position_of(main, "greet.Greeting(", offset_in_needle=len("greet."))
        answer = s.gopls(socket, root, "definition", f"{main}:{line}:{column}").stdout
        self.assertIn(os.path.join(root, "greet", "greet.go"), answer)


if __name__ == "__main__":
    unittest.main()
