"""Scenario 8: the README's first command, scripts/quickstart, in a Go module on a machine with a
user manager: a running guard, a running gopls unit, and the editor line. Twice, since a user
runs it again."""

import os
import pwd
import re
import unittest

from harness import session as s


class Quickstart(unittest.TestCase):
    def run_quickstart(self, cwd):
        env = dict(os.environ, WSLGO_SKIP_DEPS="1", WSLGO_BUILD_DIR=os.environ["WSLGO_E2E_BUILD"])
        env.pop("USER", None)  # unset in containers, under env -i, by some WSL launchers
        return s.run(os.path.join(s.SOURCE, "scripts", "quickstart"), cwd=cwd, timeout=600,
                     env=env)

    def test_quickstart_in_a_module_gives_a_guard_a_gopls_unit_and_the_editor_line(self):
        root = s.copy_fixture_module("hello")
        out = self.run_quickstart(root).stdout
        # It installs for whoever runs it: root, or with `run --as-user` the normal user.
        self.assertIn(f"Installing for {pwd.getpwuid(os.getuid()).pw_name} into "
                      f"{os.path.join(s.HOME, '.local')}", out)

        s.wait_active(s.GUARD, 30)
        self.assertEqual(s.systemctl("is-enabled", s.GUARD).stdout.strip(), "enabled")
        # A fresh guard is started once, not started and at once restarted.
        starts = [e for e in s.journal() if "main: ready" in e.get("MESSAGE", "")]
        self.assertEqual(len(starts), 1, f"the guard started {len(starts)} times: {starts}")
        unit = s.gopls_unit_for(root)
        s.wait_active(unit, 60)
        # The VS Code line names the session keeper's one socket; the workspace's own follows.
        line = re.search(r'"go\.languageServerFlags": \["-remote=unix;([^"]+)"\]', out)
        self.assertIsNotNone(line, f"no VS Code line in the output:\n{out}")
        keeper_socket = line.group(1)
        self.assertEqual(keeper_socket, os.path.join(s.RUNTIME_DIR, "wslgo-guard", "lsp.sock"))
        socket = s.workspace_property(s.workspace_object(root), "Socket")
        self.assertIn(f"gopls -remote=unix;{socket}", out)
        s.wait_until(lambda: os.path.exists(socket), 60, f"gopls' socket {socket}")
        main = os.path.join(root, "cmd", "hello", "main.go")
        ln, col = s.position_of(main, "greet.Greeting(", offset_in_needle=len("greet."))
        for through in (keeper_socket, socket):
            answer = s.gopls(through, root, "definition", f"{main}:{ln}:{col}").stdout
            self.assertIn(os.path.join(root, "greet", "greet.go"), answer, f"through {through}")
        self.assertIn(root, out, "the status does not list the workspace")

        # Again: nothing breaks, the same gopls keeps running.
        pid = s.unit_property(unit, "MainPID")
        again = self.run_quickstart(root).stdout
        self.assertIn("already registered", again)
        self.assertIn(socket, again)
        self.assertEqual(s.unit_property(unit, "MainPID"), pid, "quickstart restarted gopls")


if __name__ == "__main__":
    unittest.main()
