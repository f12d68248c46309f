"""Boots a private systemd --user per scenario, runs the scenario in it, and always tears down.

Outside (the `run` process): checks it can run at all, makes a temporary home and the cgroup
subtree and starts the inside half in a new mount namespace. Whatever happens inside, it then
kills what is left in the subtree and removes it.

Inside (in the namespace): tmpfs on /run/systemd and /run/log, a private systemd-journald, the
build installed into the home (with --installed: not, the installed package under /usr serves),
then systemd --user in its own cgroup leaf; the scenario runs as
a unittest module with the private session's environment; then `systemctl --user exit`.

The session's user is root, or with --as-user the normal user TEST_USER (session_user.py): its
cgroup leaf delegated as `Delegate=yes` does, and everything of the session (install, manager,
scenario, shell) run as it through setpriv, while the namespace's mounts and journald stay root's.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from harness import cgroups
from harness.session_user import SessionUser, ensure_test_user, readable_copy

SKIP = 77  # ctest's SKIP_RETURN_CODE for these tests
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLICE_PREFIX = "wslgo-e2e-"
HARNESS_LEAF = "harness.scope"
BOOT_TIMEOUT = 30.0
# What --installed runs: the Debian package's files (packaging/), where the user manager reads
# the vendor's user units.
INSTALLED_PREFIX = "/usr"
INSTALLED_UNIT = "/usr/lib/systemd/user/wslgo-guard.service"
EXIT_TIMEOUT = 20.0


def scenario_names():
    names = []
    for entry in sorted(os.listdir(os.path.join(HERE, "scenarios"))):
        if entry.endswith(".py") and entry[0].isdigit():
            names.append(entry[:-3])
    return names


def resolve_scenario(name):
    """'enable', '1' or '1_enable' -> '1_enable'."""
    for full in scenario_names():
        number, _, short = full.partition("_")
        if name in (full, number, short):
            return full
    if name == "harness":
        return name
    if name.endswith(".py") and os.path.isfile(name):
        return os.path.abspath(name)  # a script of its own (bench/keeper): run, not unittest
    raise SystemExit(f"unknown scenario {name!r}; known: harness, {', '.join(scenario_names())}")


def log(message):
    print(f"e2e: {message}", file=sys.stderr, flush=True)


def skip(reason):
    if os.environ.get("CI") == "true":
        log(f"{reason} (CI=true: the end-to-end tests must not skip)")
        return 1
    log(f"{reason}; skipped")
    return SKIP


def _cmake_cache(build_dir, name):
    """A variable's value in BUILD_DIR/CMakeCache.txt, or None."""
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
            for line in f:
                key, _, value = line.rstrip("\n").partition("=")
                if key.split(":", 1)[0] == name:
                    return value
    except OSError:
        pass
    return None


def gopls_under_test(build_dir):
    """(gopls, go bin dir) for the installed guard's units and the `gopls -remote` clients:
    $WSLGO_E2E_GOPLS and $WSLGO_E2E_GO_BIN_DIR when set (ctest sets both), else the build's
    WSLGO_TEST_GOPLS and WSLGO_TEST_GO_BIN_DIR, else gopls on PATH and no go bin dir."""
    gopls = (os.environ.get("WSLGO_E2E_GOPLS") or _cmake_cache(build_dir, "WSLGO_TEST_GOPLS")
             or shutil.which("gopls") or "gopls")
    go_bin_dir = (os.environ.get("WSLGO_E2E_GO_BIN_DIR")
                  or _cmake_cache(build_dir, "WSLGO_TEST_GO_BIN_DIR") or "")
    return gopls, go_bin_dir


def check_can_run(gopls, as_user):
    """None when a private user manager can be booted here, else why not."""
    if os.geteuid() != 0:
        return ("needs root: a private user manager needs its own mount namespace (tmpfs on "
                "/run/systemd) and cgroups")
    tools = ["unshare", "systemctl", "busctl", "journalctl"]
    if as_user:
        tools += ["useradd", "setpriv"]
    for tool in tools:
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if not os.access(gopls, os.X_OK):
        return (f"no gopls at {gopls} (WSLGO_E2E_GOPLS, else the build's WSLGO_TEST_GOPLS; "
                "scripts/install-deps installs the pinned one)")
    for binary in ("/lib/systemd/systemd", "/lib/systemd/systemd-journald"):
        if not os.access(binary, os.X_OK):
            return f"{binary} is missing (package systemd)"
    if not os.path.exists("/usr/lib/systemd/user/dbus.socket"):
        return "dbus.socket user unit is missing (package dbus-user-session)"
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot make a mount namespace: unshare -m: {probe.stderr.strip()}"
    return None


def remove_stale_slices():
    for directory in cgroups.stale_slices(SLICE_PREFIX):
        for sub, _, _ in sorted(os.walk(directory), key=lambda w: -len(w[0])):
            try:
                with open(os.path.join(sub, "cgroup.procs")) as f:
                    for pid in f.read().split():
                        os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.2)
        for sub, _, _ in sorted(os.walk(directory), key=lambda w: -len(w[0])):
            try:
                os.rmdir(sub)
            except OSError:
                pass
        log(f"removed a stale cgroup of an earlier run: {directory}")


def check_user_can_read(user, build_dir, go_bin_dir):
    """None when the normal user can reach what the session runs from, else why not."""
    for test, path in (("-r", os.path.join(build_dir, "cmake_install.cmake")),
                       ("-r", os.path.join(HERE, "run")),
                       ("-x", os.path.join(go_bin_dir, "go") if go_bin_dir else "")):
        if path and not user.can(test, path):
            return (f"the test user {user.name} cannot read {path}; --as-user needs the source, "
                    "the build directory and Go where every user can read them (not below /root)")
    return None


def session_environment(root, gopls, go_bin_dir, user):
    """The private session's environment; the user manager passes it to every unit (PATH only
    once run_inside sets it). GOPLS is what the launcher runs (no gopls.path in the scenarios'
    configs) and what the scenarios' `gopls -remote` clients run; a current gopls runs
    `go list`, so a current go comes first on PATH."""
    home = os.path.join(root, "home")
    runtime = os.path.join(root, "runtime")
    path = os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    if go_bin_dir:
        path = ":".join([go_bin_dir] + [d for d in path.split(":") if d != go_bin_dir])
    env = {
        "PATH": path,
        "GOPLS": gopls,
        "LANG": "C.UTF-8",
        "HOME": home,
        "USER": user.name,
        "LOGNAME": user.name,
        "XDG_RUNTIME_DIR": runtime,
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "XDG_STATE_HOME": os.path.join(home, ".local", "state"),
        "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "DBUS_SESSION_BUS_ADDRESS": f"unix:path={runtime}/bus",
        "WSLGO_E2E_ROOT": root,
        "WSLGO_E2E_PREFIX": os.path.join(home, ".local"),
        "WSLGO_E2E_USER": user.name,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for key in ("CI", "TERM"):
        if key in os.environ:
            env[key] = os.environ[key]
    # A bench script's own settings (bench/soak's duration) reach it inside the session.
    env.update({k: v for k, v in os.environ.items() if k.startswith("WSLGO_BENCH_")})
    return env


def make_home(env, user):
    """The session's home and runtime directory, the user's own (0700) as on a real machine."""
    user.own(env["HOME"], *[env[key] for key in ("XDG_CONFIG_HOME", "XDG_STATE_HOME",
                                                 "XDG_DATA_HOME", "XDG_CACHE_HOME")])
    user.own(env["XDG_RUNTIME_DIR"])


def install(build_dir, env, user):
    """What a user does: cmake --install BUILD --prefix ~/.local, as the session's user."""
    if not user.is_root:
        _user_owned_build_tree(build_dir, env["WSLGO_E2E_ROOT"], user)
    done = subprocess.run(user.command(["cmake", "--install", build_dir,
                                        "--prefix", env["WSLGO_E2E_PREFIX"]]),
                          capture_output=True, text=True, env=env)
    with open(os.path.join(env["WSLGO_E2E_ROOT"], "install.log"), "w") as f:
        f.write(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"cmake --install {build_dir} failed:\n{done.stdout}{done.stderr}")
    unit = os.path.join(env["XDG_DATA_HOME"], "systemd", "user", "wslgo-guard.service")
    if not os.path.isfile(unit):
        log(f"cmake --install put no wslgo-guard.service where the user manager looks ({unit}); "
            "the product scenarios will fail at `systemctl --user enable`")


def _user_owned_build_tree(build_dir, root, user):
    """`cmake --install` writes into the build tree (install_manifest.txt, the units it
    generates), and so does `cmake --build` (ninja's log) when scripts/quickstart runs it; a
    normal user may not in a tree of root's. Inside this namespace the tree is an overlay the user
    owns: its writes land in the temporary tree, the build tree stays as it was. With metacopy
    the chown copies up metadata only, not the binaries."""
    upper, work = os.path.join(root, "build-overlay", "upper"), os.path.join(root, "build-overlay",
                                                                             "work")
    os.makedirs(upper)
    os.makedirs(work)
    options = f"lowerdir={build_dir},upperdir={upper},workdir={work}"
    mounted = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options + ",metacopy=on",
                              build_dir], capture_output=True, text=True)
    if mounted.returncode != 0:
        log(f"overlay with metacopy refused ({mounted.stderr.strip()}); copying the build tree up")
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, build_dir],
                       check=True)
    subprocess.run(["chown", "-R", f"{user.uid}:{user.gid}", build_dir], check=True)


def run_outside(build_dir, scenarios, shell, keep, as_user=False, installed=False):
    gopls, go_bin_dir = gopls_under_test(build_dir)
    reason = check_can_run(gopls, as_user)
    if reason:
        return skip(reason)
    if installed:
        # Nothing to install: a missing package is a mistake of whoever asked, not a reason to
        # skip.
        if not os.path.isfile(INSTALLED_UNIT):
            log(f"--installed: no {INSTALLED_UNIT}; install the package first "
                "(apt-get install ./wslgo-guard_*.deb, packaging/README.md)")
            return 1
    elif not os.path.isfile(os.path.join(build_dir, "cmake_install.cmake")):
        log(f"{build_dir} is not a configured build directory (no cmake_install.cmake)")
        return 1
    user = SessionUser("root", 0, 0)
    if as_user:
        try:
            user = ensure_test_user()
        except RuntimeError as e:
            return skip(str(e))
        reason = check_user_can_read(user, build_dir, go_bin_dir)
        if reason:
            return skip(reason)
    version = subprocess.run([gopls, "version"], capture_output=True, text=True).stdout
    log(f"gopls under test: {gopls} ({version.partition(chr(10))[0]}), "
        f"go first from {go_bin_dir or 'PATH'}; the session runs as {user.name} "
        f"(uid {user.uid})")
    remove_stale_slices()
    worst = 0
    for scenario in scenarios:
        started = time.monotonic()
        code = _one_boot(build_dir, scenario, shell, keep, gopls, go_bin_dir, user, installed)
        log(f"{scenario}: {'passed' if code == 0 else 'FAILED'} in {time.monotonic() - started:.1f}s")
        worst = worst or code
    return worst


def _one_boot(build_dir, scenario, shell, keep, gopls, go_bin_dir, user, installed=False):
    root = tempfile.mkdtemp(prefix=f"wslgo-e2e-{os.path.basename(scenario)}-")
    os.chmod(root, 0o755)
    # The build's gopls is below root's 0700 home by default: a normal user gets a copy.
    gopls = readable_copy(gopls, user, os.path.join(root, "gopls"))
    env = session_environment(root, gopls, go_bin_dir, user)
    env["WSLGO_E2E_SOURCE"] = os.path.dirname(os.path.dirname(HERE))
    env["WSLGO_E2E_BUILD"] = build_dir
    if installed:
        env["WSLGO_E2E_INSTALLED"] = "1"
        env["WSLGO_E2E_PREFIX"] = INSTALLED_PREFIX
    manager_leaf = f"user@{user.uid}.service"
    tree = cgroups.CgroupTree(f"{SLICE_PREFIX}{os.getpid()}.slice", [HARNESS_LEAF, manager_leaf])
    if not tree.hierarchies:
        shutil.rmtree(root, ignore_errors=True)
        return skip("no writable cgroup hierarchy: " + "; ".join(tree.notes))
    code = 1
    try:
        make_home(env, user)
        tree.create()
        if not user.is_root:
            delegated = tree.delegate(manager_leaf, user.uid, user.gid)
            if not delegated:
                raise RuntimeError("no cgroup2 or name=systemd hierarchy to delegate to "
                                   f"{user.name}: " + "; ".join(tree.notes))
        env["WSLGO_E2E_CGROUPS"] = ":".join(tree.slice_dirs)
        inside = [sys.executable, os.path.join(HERE, "run"), "--inside", scenario]
        if shell:
            inside.append("--shell")
        child = subprocess.Popen(["unshare", "-m", "--propagation", "private", "--"] + inside,
                                 env=env, preexec_fn=lambda: tree.join(HARNESS_LEAF))
        try:
            code = child.wait()
        except KeyboardInterrupt:
            child.send_signal(signal.SIGTERM)
            code = child.wait()
    except Exception as e:  # the harness's own failure: say it and still tear down
        log(f"harness error: {e}")
        code = 1
    finally:
        failures = tree.remove()
        if failures:
            log("could not remove cgroups: " + "; ".join(failures))
            code = code or 1
        if code == 0 and not keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            log(f"kept {root} (journal.txt, systemd-user.log, install.log)")
    return code


def _mount_tmpfs(target):
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", target], check=True)


def _wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")


def run_inside(scenario, shell):
    root = os.environ["WSLGO_E2E_ROOT"]
    runtime = os.environ["XDG_RUNTIME_DIR"]
    user = SessionUser.named(os.environ["WSLGO_E2E_USER"])
    # /run/systemd/system tells tools that systemd runs; journald puts its sockets next to it.
    _mount_tmpfs("/run/systemd")
    os.makedirs("/run/systemd/system")
    _mount_tmpfs("/run/log")
    # Root reads the system journal, where journald keeps volatile entries of every uid. A
    # normal user reads only its own user-UID.journal, which journald writes (with an ACL for
    # the user) in persistent storage alone: there, on a tmpfs, once flushed to it.
    persistent = not user.is_root
    if os.path.isdir("/var/log/journal"):
        _mount_tmpfs("/var/log/journal")  # never write into the host's persistent journal
    elif persistent:
        _mount_tmpfs("/var/log")  # the host has no /var/log/journal; it stays so
    # The host's kernel ring buffer would bury the units' lines in every dump.
    os.makedirs("/run/systemd/journald.conf.d")
    with open("/run/systemd/journald.conf.d/e2e.conf", "w") as f:
        f.write(f"[Journal]\nStorage={'persistent' if persistent else 'volatile'}\n"
                "ReadKMsg=no\n")
    journald = subprocess.Popen(["/lib/systemd/systemd-journald"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manager = None
    code = 1
    try:
        _wait_for(lambda: os.path.exists("/run/systemd/journal/stdout"), 10, "systemd-journald")
        if persistent:
            subprocess.run(["journalctl", "--flush"], check=True, timeout=BOOT_TIMEOUT)
        if os.environ.get("WSLGO_E2E_INSTALLED") == "1":
            log(f"--installed: the package's files under {INSTALLED_PREFIX}, nothing installed "
                "into the home")
        else:
            install(os.environ["WSLGO_E2E_BUILD"], os.environ, user)
        leaf = f"user@{user.uid}.service"
        cgroup_dirs = [os.path.join(d, "cgroup.procs") for d in _leaf_dirs(leaf)]

        def enter_leaf():
            for procs in cgroup_dirs:
                with open(procs, "w") as f:
                    f.write("0")

        with open(os.path.join(root, "systemd-user.log"), "w") as manager_log:
            # Into the leaf as root, then setpriv drops to the user and execs the manager.
            manager = subprocess.Popen(user.command(["/lib/systemd/systemd", "--user"]),
                                       stdout=manager_log, stderr=subprocess.STDOUT,
                                       preexec_fn=enter_leaf)
        _wait_for(lambda: os.path.exists(os.path.join(runtime, "bus")), BOOT_TIMEOUT,
                  "the user manager's bus socket $XDG_RUNTIME_DIR/bus (dbus.socket)")
        state = subprocess.run(user.command(["systemctl", "--user", "is-system-running", "--wait"]),
                               capture_output=True, text=True, timeout=BOOT_TIMEOUT)
        if state.stdout.strip() not in ("running", "degraded"):
            raise RuntimeError(f"the user manager did not boot: {state.stdout.strip()}")
        # The manager gives units its own default PATH, not the one it was started with; the
        # gopls under test needs the session's (a current go first).
        subprocess.run(user.command(["systemctl", "--user", "set-environment",
                                     f"PATH={os.environ['PATH']}"]),
                       check=True, timeout=BOOT_TIMEOUT)
        if shell:
            log(f"a shell in the private session as {user.name}; `exit` tears it down")
            code = subprocess.call(user.command([os.environ.get("SHELL", "/bin/bash")]))
        elif os.path.isabs(scenario):
            code = subprocess.call(user.command([_python_for(user), scenario]), cwd=HERE,
                                   env=dict(os.environ, PYTHONPATH=HERE))
        else:
            code = subprocess.call(user.command([_python_for(user), "-m", "unittest", "-v",
                                                 f"scenarios.{scenario}" if scenario != "harness"
                                                 else "harness.self_test"]), cwd=HERE)
    except Exception as e:
        log(f"harness error inside the namespace: {e}")
        code = 1
    finally:
        if manager is not None:
            subprocess.run(user.command(["systemctl", "--user", "exit"]), capture_output=True,
                           timeout=10)
            try:
                manager.wait(EXIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                log("systemd --user did not exit; killing it")
                manager.kill()
                manager.wait()
        with open(os.path.join(root, "journal.txt"), "w") as f:
            subprocess.run(["journalctl", "--no-pager", "-o", "short-precise"], stdout=f,
                           stderr=subprocess.STDOUT)
        if code != 0:
            tail = subprocess.run(["journalctl", "--no-pager", "-n", "60"], capture_output=True,
                                  text=True).stdout
            log("the journal's last lines:\n" + tail)
        journald.terminate()
        journald.wait()
    return code


def _python_for(user):
    """This Python, unless the user cannot read it (a pyenv below /root): then the system's."""
    if user.can("-r", sys.executable):
        return sys.executable
    return shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin") or sys.executable


def _leaf_dirs(leaf):
    return [os.path.join(d, leaf) for d in os.environ["WSLGO_E2E_CGROUPS"].split(":")]
