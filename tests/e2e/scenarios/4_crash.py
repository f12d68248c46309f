"""Scenario 4: kill -9 of gopls; systemd restarts it and the guard notices; a crash loop hits the
guard's rate limit and the workspace reads "degraded"."""

import http.server
import os
import signal
import socket
import threading
import time
import unittest

from harness import session as s

WORKSPACE = "org.wslgo.Guard1.Workspace"
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


def debug_port_of(pid):
    """The port of gopls' -debug flag, from its command line: what the launcher picked."""
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        argv = f.read().decode().split("\0")
    for arg in argv:
        if arg.startswith("-debug="):
            return int(arg.rsplit(":", 1)[1])
    return None


class Squatter:
    """Another program on gopls' old debug port, answering with made-up heap figures."""

    HEAP_INUSE = 123456789

    def __init__(self, port):
        self.requests = 0
        squatter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                squatter.requests += 1
                body = (f"# runtime.MemStats\n# HeapAlloc = 1\n# HeapSys = 2\n"
                        f"# HeapInuse = {Squatter.HEAP_INUSE}\n# NextGC = 4\n# NumGC = 5\n"
                        f"# Sys = 6\n").encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        http.server.HTTPServer.allow_reuse_address = True
        self.server = http.server.HTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


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

    def test_a_restarted_gopls_gets_a_fresh_debug_port_and_a_squatter_on_the_old_one_is_ignored(self):
        pid = int(s.unit_property(self.unit, "MainPID"))
        old_port = debug_port_of(pid)
        self.assertIsNotNone(old_port, "gopls runs with a -debug address")
        s.wait_until(lambda: s.workspace_property(self.obj, "HeapInUse") > 0, 60,
                     "heap figures from gopls' debug server")
        os.kill(pid, signal.SIGKILL)
        # The port gopls had, taken by someone else before systemd starts gopls again.
        s.wait_until(lambda: not s.pid_alive(pid), 10, f"gopls {pid} to die")
        squatter = s.wait_until(lambda: _try(lambda: Squatter(old_port)), 10,
                                f"binding gopls' old port {old_port}")
        try:
            def restarted():
                now = int(s.unit_property(self.unit, "MainPID"))
                return now if now not in (0, pid) and debug_port_of(now) else None

            new_pid = s.wait_until(restarted, 30, "systemd to restart gopls")
            new_port = debug_port_of(new_pid)
            self.assertNotEqual(new_port, old_port, "the launcher picks a fresh port at every start")
            s.wait_until(
                lambda: s.workspace_property(self.obj, "DebugAddress") == f"127.0.0.1:{new_port}",
                20, "the guard to follow gopls to its new port")
            heap = s.wait_until(
                lambda: (lambda h: h if h > 0 else None)(
                    s.workspace_property(self.obj, "HeapInUse")),
                60, "heap figures from the new gopls")
            self.assertNotEqual(heap, Squatter.HEAP_INUSE)
            self.assertEqual(squatter.requests, 0, "the guard never asked the squatter")
        finally:
            squatter.close()

    def test_a_crash_loop_leaves_the_workspace_degraded(self):
        for _ in range(4):
            s.wait_active(self.unit, 30)
            kill_and_wait_for_restart(self.unit, self.obj)
        state = s.wait_until(
            lambda: (lambda v: v if v == "degraded" else None)(
                s.workspace_property(self.obj, "State")),
            20, "the workspace State to read degraded")
        self.assertEqual(state, "degraded")


def _try(make):
    try:
        return make()
    except OSError:
        return None


class TenKillsInAMinute(unittest.TestCase):
    """gopls killed ten times within a minute: systemd gives up on the unit after its start
    limit (StartLimitBurst=5 in 60 s); the guard keeps answering, keeps the workspace, says what
    happened, and a Restart asked of it brings gopls back past the start limit. Nothing in the
    home outside the guard's own directories changed."""

    def setUp(self):
        s.write_user_config(s.fast_sampling_config())
        s.enable_guard()
        self.root = s.copy_fixture_module("hello", "ten-kills")
        self.obj, self.unit, self.socket = s.add_and_wait(self.root)
        self.outside = s.home_outside_guard()

    def test_ten_kills_in_a_minute_leave_the_workspace_guarded_and_restartable(self):
        started = time.monotonic()
        kills = 0
        gave_up = False
        while kills < 10 and time.monotonic() - started < 60:
            now = s.unit_properties(self.unit, "MainPID", "ActiveState")
            if now["ActiveState"] == "failed":
                gave_up = True
                break
            pid = int(now["MainPID"])
            if pid == 0 or now["ActiveState"] != "active":
                time.sleep(0.1)
                continue
            os.kill(pid, signal.SIGKILL)
            kills += 1
            s.wait_until(lambda: not s.pid_alive(pid), 10, f"gopls {pid} to die")
        note = f"{kills} kills in {time.monotonic() - started:.1f}s"
        if not gave_up:
            gave_up = s.wait_until(
                lambda: s.unit_property(self.unit, "ActiveState") == "failed" or None, 30,
                f"systemd to give up on {self.unit} after {note}")
        self.assertGreaterEqual(kills, 5, note)

        status = s.workspace_status(self.root)
        self.assertIsNotNone(status, f"the workspace is still guarded after {note}")
        self.assertIn(status["state"], ("degraded", "failed", "stopped"), status)
        self.assertEqual(s.status()["state"] in ("ok", "degraded", "warning"), True)

        # The operator's way back: Restart clears systemd's start limit first.
        s.call("Restart", "s", "e2e: after a crash loop", path=self.obj,
               interface=s.WORKSPACE_IFACE, timeout=60)
        s.wait_active(self.unit, 30)
        s.wait_until(lambda: s.workspace_property(self.obj, "MainPID") > 0, 20,
                     "the workspace's MainPID after the Restart")
        self.assertEqual(s.tree_changes(self.outside, s.home_outside_guard()), [],
                         f"the home outside the guard's directories after {note}")


class WithoutDebugServer(unittest.TestCase):
    def setUp(self):
        s.write_user_config(s.fast_sampling_config(gopls={"debug_server": False}))
        s.enable_guard()
        s.systemctl("reload", s.GUARD)  # the guard may be running from an earlier test
        self.root = s.copy_fixture_module("hello", self._testMethodName)
        self.obj, self.unit, self.socket = s.add_and_wait(self.root)

    def test_gopls_runs_without_a_debug_server_and_gc_goes_through_mem_stats(self):
        pid = int(s.unit_property(self.unit, "MainPID"))
        s.wait_until(lambda: debug_port_of(pid) is None and os.path.exists(self.socket), 20,
                     "gopls to run")
        self.assertIsNone(debug_port_of(pid), "no -debug flag")
        self.assertEqual(s.workspace_property(self.obj, "DebugAddress"), "")
        if s.is_old_gopls():
            # gopls 0.5.0 has no gopls.mem_stats: nothing can ask it for a GC, and it says so.
            failed = s.wait_until(
                lambda: (lambda d: d if "mem_stats" in d.stderr else None)(
                    s.call_fails("CollectGarbage", path=self.obj, interface=WORKSPACE)),
                60, "CollectGarbage to fail naming gopls.mem_stats")
            self.assertNotEqual(failed.returncode, 0)
        else:
            s.wait_until(lambda: s.call("CollectGarbage", path=self.obj, interface=WORKSPACE,
                                        timeout=120),
                         120, "a GC through gopls.mem_stats")
        profile = s.call_fails("CaptureHeapProfile", path=self.obj, interface=WORKSPACE)
        self.assertNotEqual(profile.returncode, 0)
        self.assertIn("debug_server", profile.stderr)


if __name__ == "__main__":
    unittest.main()
