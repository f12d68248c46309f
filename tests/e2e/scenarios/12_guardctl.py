"""Scenario 12: wslgo-guardctl as a user runs it, installed, against the guard on their user
manager: add from the module's directory, status (text and --json), gc, doctor, editor-config,
remove, and the exit codes a script relies on."""

import json
import os
import unittest

from harness import session as s


def guardctl(*args, cwd=None, check=True):
    env = dict(os.environ, NO_COLOR="1")
    return s.run(os.path.join(s.PREFIX, "bin", "wslgo-guardctl"), *args, cwd=cwd, check=check,
                 env=env, timeout=60)


class Guardctl(unittest.TestCase):
    def test_a_module_added_acted_on_and_removed_through_guardctl(self):
        s.enable_guard()
        root = s.copy_fixture_module("hello")

        added = guardctl("add", cwd=root)
        self.assertIn(root, added.stdout + added.stderr)
        unit = s.gopls_unit_for(root)
        s.wait_active(unit, 60)
        socket = s.workspace_status(root)["socket"]
        s.wait_until(lambda: os.path.exists(socket), 60, f"gopls' socket {socket}")

        status = s.wait_until(
            lambda: (lambda out: out if "pid " in out else None)(guardctl().stdout), 30,
            "guardctl status to show the workspace's gopls running")
        print(f"e2e 12_guardctl: status:\n{status}")
        self.assertIn(root, status)
        self.assertIn("MemAvailable", status)
        self.assertNotIn("\x1b[", status, "colour with NO_COLOR set")
        as_json = json.loads(guardctl("status", "--json").stdout)
        self.assertEqual([w["path"] for w in as_json["workspaces"]], [root])

        # From a directory inside the module, as a user in their editor's terminal would.
        gc = guardctl("gc", cwd=os.path.join(root, "greet"), check=False)
        self.assertEqual(gc.returncode, 0, gc.stderr)

        # On this user manager nothing must fail; the guard's own checks pass.
        doctor = guardctl("doctor", check=False)
        print(f"e2e 12_guardctl: doctor:\n{doctor.stdout}")
        self.assertEqual(doctor.returncode, 0, doctor.stdout + doctor.stderr)
        self.assertRegex(doctor.stdout, r"(?m)^PASS\s+user-manager")
        self.assertNotRegex(doctor.stdout, r"(?m)^FAIL")
        checks = json.loads(guardctl("doctor", "--json").stdout)["checks"]
        self.assertTrue(any(c.get("workspace") == root for c in checks),
                        f"doctor has no line for {root}: {checks}")

        # What shell completion offers for a workspace argument.
        self.assertEqual(guardctl("__workspaces").stdout.split("\n")[0], root)
        # The unit's journal through journalctl, and a heap profile with the line to open it.
        logs = guardctl("logs", "-n", "50", cwd=root, check=False)
        self.assertEqual(logs.returncode, 0, logs.stderr)
        self.assertIn("gopls", logs.stdout)
        profile = guardctl("profile", cwd=root).stdout
        saved = [word for word in profile.split() if word.endswith(".pb.gz")]
        self.assertTrue(saved and os.path.exists(saved[0]), profile)
        self.assertIn("go tool pprof", profile)

        snippet = guardctl("editor-config", "--editor", "vscode", cwd=root).stdout
        self.assertIn("go.languageServerFlags", snippet)
        self.assertTrue(socket in snippet
                        or os.path.join(s.RUNTIME_DIR, "wslgo-guard", "lsp.sock") in snippet,
                        snippet)

        self.assertEqual(guardctl("remove", cwd=root).returncode, 0)
        s.wait_until(lambda: s.unit_property(unit, "ActiveState") in ("inactive", "failed"), 30,
                     f"{unit} to stop")
        # Exit codes scripts rely on: 4 for a path in no workspace, 2 for bad usage.
        self.assertEqual(guardctl("gc", cwd=root, check=False).returncode, 4)
        self.assertEqual(guardctl("--no-such-option", check=False).returncode, 2)


if __name__ == "__main__":
    unittest.main()
