"""Who the private session runs as: root, or the dedicated normal user of `run --as-user`."""

import dataclasses
import os
import pwd
import shutil
import subprocess

# The normal user `--as-user` makes (once) and runs every boot as. Its home in the password
# database leads nowhere: each boot gives it a fresh one in the temporary tree ($HOME).
TEST_USER = "wslgo-e2e"


@dataclasses.dataclass(frozen=True)
class SessionUser:
    name: str
    uid: int
    gid: int

    @staticmethod
    def named(name):
        entry = pwd.getpwnam(name)
        return SessionUser(entry.pw_name, entry.pw_uid, entry.pw_gid)

    @property
    def is_root(self):
        return self.uid == 0

    def command(self, argv):
        """`argv` as this user would run it: through setpriv with the user's own groups (from
        root, as login does), unchanged for root. The environment is the caller's."""
        if self.is_root:
            return list(argv)
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups",
                "--"] + list(argv)

    def can(self, test, path):
        """True when this user passes `test -r|-x PATH` (a path below /root, 0700, fails)."""
        if self.is_root:
            return True
        return subprocess.run(self.command(["test", test, path])).returncode == 0

    def own(self, top, *below):
        """Makes `top` and the directories `below` it (created when missing), all mode 0700,
        this user's."""
        for directory in (top,) + below:
            os.makedirs(directory, mode=0o700, exist_ok=True)
        for directory, _, _ in os.walk(top):
            os.chmod(directory, 0o700)
            if not self.is_root:
                os.chown(directory, self.uid, self.gid)


def ensure_test_user():
    """The dedicated normal user, made when missing: a uid of 1000 or more (useradd's first free
    one), its own group, no home of its own and no login shell."""
    try:
        return SessionUser.named(TEST_USER)
    except KeyError:
        pass
    done = subprocess.run(["useradd", "--no-create-home", "--home-dir", "/nonexistent",
                           "--shell", "/usr/sbin/nologin", "--user-group",
                           "--comment", "wslgo-guard e2e tests (tests/e2e/run --as-user)",
                           TEST_USER], capture_output=True, text=True)
    try:
        return SessionUser.named(TEST_USER)  # also when a parallel run made it first
    except KeyError:
        raise RuntimeError(f"useradd {TEST_USER} failed: {done.stderr.strip()}") from None


def readable_copy(path, user, directory):
    """`path` itself when `user` may run it, else a copy in `directory` it may (the build's
    gopls lives in root's 0700 cache by default)."""
    if user.can("-x", path):
        return path
    os.makedirs(directory, mode=0o755, exist_ok=True)
    copy = os.path.join(directory, os.path.basename(path))
    shutil.copy2(path, copy)
    os.chmod(copy, 0o755)
    return copy
