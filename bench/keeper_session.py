"""The session keeper's figures, inside a private user manager (run by bench/keeper).

1. Time from the guard's Restart of a workspace's gopls to the first correct answer on an
   editor's connection kept by wslgo-lsp (the question is about a function that exists only in
   the editor's unsaved buffer), on a small module and on the generated large one
   (scripts/generate-go-module, 81k lines); beside it what an editor needs today on the
   workspace's own socket: its client exits, it starts a new `gopls -remote`, initializes,
   reopens the document with its unsaved text and asks again.
2. The keeper's memory with 8 workspaces and 20 open documents each, one editor per workspace.
"""

import os
import shutil
import subprocess
import sys
import threading
import time

from harness import lsp_client
from harness import session as s
from harness.lsp_client import EditorClient, LspError

KEEPER_SOCKET = os.path.join(s.RUNTIME_DIR, "wslgo-guard", "lsp.sock")
GENERATOR = os.path.join(s.SOURCE, "scripts", "generate-go-module")
DEADLINE = 240


def say(text):
    print(text, flush=True)


def first_correct_hover(editor, path, needle, offset, expect, deadline, after=None):
    """Hovers until gopls answers with `expect`; errors (ContentModified, a gopls still loading
    the package) and empty answers mean ask again, as an editor does. With `after` (a
    GoplsExit), only a request sent once the old gopls was gone counts."""
    while time.monotonic() < deadline:
        position = editor.position(path, needle, offset_in_needle=offset)
        asked = time.monotonic()
        try:
            result = editor.hover(path, position["line"], position["character"],
                                  deadline - time.monotonic())
        except LspError:
            result = None
        if result and expect in lsp_client.hover_text(result):
            if after is None or (after.gone_at is not None and asked >= after.gone_at):
                return time.monotonic()
        time.sleep(0.02)
    raise AssertionError(f"no hover saying {expect!r} at {needle!r}: {editor.describe()}")


def measure(label, root, path, edit_needle, new_func, call_needle, expect):
    """(kept connection, today), each (seconds from the old gopls' exit, seconds from the
    Restart call) to the first correct hover."""
    # The kept connection: through the keeper, with an unsaved edit.
    kept = EditorClient(KEEPER_SOCKET, root, name=f"{label}-kept")
    kept.initialize(90)
    kept.did_open(path)
    kept.append(path, new_func)
    kept.replace(path, edit_needle[0], edit_needle[1])
    deadline = time.monotonic() + DEADLINE
    first_correct_hover(kept, path, call_needle, 0, expect, deadline)
    obj = s.workspace_object(root)
    socket = s.workspace_property(obj, "Socket")

    exit = GoplsExit(obj)
    started, restarted = restart_in_background(obj)
    # Ask at once and again until right, as an editor whose user keeps hovering does; the
    # old gopls answers until the guard has saved its profile and stopped it.
    answered = first_correct_hover(kept, path, call_needle, 0, expect,
                                   time.monotonic() + DEADLINE, after=exit)
    kept_seconds = (answered - exit.gone_at, answered - started)
    restarted.wait(120)
    assert kept.process_alive(), kept.describe()

    # Today: an editor on the workspace's own socket loses its client at the restart and starts
    # over with the text it holds.
    old = EditorClient(socket, root, name=f"{label}-direct")
    old.initialize(90)
    old.did_open(path, kept.text(path))
    first_correct_hover(old, path, call_needle, 0, expect, time.monotonic() + DEADLINE)
    exit = GoplsExit(obj)
    started, restarted = restart_in_background(obj)
    old.wait_exit(60)
    fresh = EditorClient(socket, root, name=f"{label}-fresh")
    while True:  # the new gopls may not listen yet: an editor retries its server start
        try:
            fresh.initialize(30)
            break
        except (AssertionError, LspError):
            fresh.close()
            time.sleep(0.1)
            fresh = EditorClient(socket, root, name=f"{label}-fresh")
    fresh.did_open(path, kept.text(path))
    answered = first_correct_hover(fresh, path, call_needle, 0, expect,
                                   time.monotonic() + DEADLINE, after=exit)
    today_seconds = (answered - exit.gone_at, answered - started)
    restarted.wait(120)
    for editor in (kept, fresh):
        editor.close()
    return kept_seconds, today_seconds


class GoplsExit:
    """When the workspace's current gopls process ends: polled every 2 ms from a thread."""

    def __init__(self, obj):
        self.pid = s.workspace_property(obj, "MainPID")
        self.gone_at = None
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self):
        while os.path.exists(f"/proc/{self.pid}"):
            time.sleep(0.002)
        self.gone_at = time.monotonic()


def restart_in_background(obj):
    """The guard's Restart (profile first, then the unit) without waiting for its answer, which
    comes only after the restart has settled; (when it was asked, the busctl process)."""
    started = time.monotonic()
    busctl = subprocess.Popen(["busctl", "--user", "call", "--timeout=120s", s.BUS_NAME, obj,
                               s.WORKSPACE_IFACE, "Restart", "s", "bench"],
                              stdout=subprocess.DEVNULL)
    return started, busctl


def smaps_rollup_kib(pid, *fields):
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in fields:
                values[key] = int(rest.split()[0])
    return values


def keeper_memory():
    """8 workspaces, 20 open documents each, one editor each: the keeper's RSS, PSS, USS."""
    editors = []
    documents = 0
    text_bytes = 0
    for n in range(8):
        root = s.copy_fixture_module("hello", f"mem{n}")
        for i in range(19):  # with cmd/hello/main.go: 20 per workspace
            with open(os.path.join(root, "greet", f"extra{i}.go"), "w") as f:
                f.write("package greet\n\n" + "".join(
                    f"// Extra{i}_{j} returns {j}.\nfunc Extra{i}_{j}() int {{ return {j} }}\n\n"
                    for j in range(40)))
        editor = EditorClient(KEEPER_SOCKET, root, name=f"mem{n}")
        editor.initialize(90)
        paths = [os.path.join(root, "cmd", "hello", "main.go")] + [
            os.path.join(root, "greet", f"extra{i}.go") for i in range(19)]
        for path in paths:
            editor.did_open(path)
            editor.append(path, "\n// an unsaved line\n")
            documents += 1
            text_bytes += len(editor.text(path).encode())
        editors.append((editor, paths[0]))
    for editor, path in editors:  # every document has reached the keeper
        first_correct_hover(editor, path, "greet.Greeting(", len("greet."), "Greeting(",
                            time.monotonic() + DEADLINE)
    pid = int(s.unit_property("wslgo-lsp.service", "MainPID"))
    rss = s.proc_status_kib(pid, "VmRSS")
    roll = smaps_rollup_kib(pid, "Pss", "Private_Clean", "Private_Dirty")
    uss = roll["Private_Clean"] + roll["Private_Dirty"]
    editors_seen = s.status()
    counted = sum(w.get("editors", 0) for w in editors_seen.get("workspaces", []))
    for editor, _ in editors:
        editor.close()
    return documents, text_bytes, rss, roll["Pss"], uss, counted


def report(what, kept, today):
    say(f"{what}: old gopls gone -> first correct answer: kept connection {kept[0]:.2f} s, "
        f"today (new client, initialize, reopen) {today[0]:.2f} s; from the Restart call "
        f"(profile saved first): {kept[1]:.2f} s and {today[1]:.2f} s")


def main():
    s.write_user_config(s.fast_sampling_config())
    s.enable_guard()
    s.wait_active("wslgo-lsp.socket", 30)
    say(f"gopls: {s.run(s.GOPLS, 'version').stdout.splitlines()[0]}")

    small = s.copy_fixture_module("hello", "bench-small")
    kept, today = measure(
        "small", small, os.path.join(small, "cmd", "hello", "main.go"),
        ("fmt.Println(greet.Greeting(name))", "fmt.Println(shout(greet.Greeting(name)))"),
        "\nfunc shout(s string) string { return s + \"!\" }\n", "shout(greet", "shout(s string)")
    report("small module (hello)", kept, today)

    large = os.path.join(s.HOME, "src", "bench-large")
    s.run(sys.executable, GENERATOR, large)
    lines = sum(1 for d, _, files in os.walk(large) for f in files if f.endswith(".go")
                for _ in open(os.path.join(d, f)))
    path = os.path.join(large, "pkg0000", "file0.go")
    kept, today = measure(
        "large", large, path,
        ("return core.Use(len(s) + t.A)", "return core.Use(len(s) + t.A + bigExtra())"),
        "\nfunc bigExtra() int { return core.Use(7) }\n", "bigExtra()", "bigExtra() int")
    report(f"large module ({lines} lines)", kept, today)

    documents, text_bytes, rss, pss, uss, counted = keeper_memory()
    say(f"keeper memory, 8 workspaces x 20 open documents ({documents} documents, "
        f"{text_bytes / 1024:.0f} KiB of text, {counted} editors in GetStatus): "
        f"VmRSS {rss / 1024:.2f} MiB, Pss {pss / 1024:.2f} MiB, USS {uss / 1024:.2f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
