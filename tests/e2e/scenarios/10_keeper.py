"""Scenario 10: the session keeper, as an editor experiences it with the stock client.

Editors run `gopls -remote=unix;$XDG_RUNTIME_DIR/wslgo-guard/lsp.sock` (socket-activated
wslgo-lsp.socket + wslgo-lsp.service). The keeper learns the workspace from `initialize`, asks the
guard for it (auto-adding a module) and relays to that workspace's gopls. When gopls goes away (the
guard's Restart, kill -9) the editor's connection stays open: requests in flight get ContentModified
(-32801), new ones wait, and the keeper replays initialize, configuration and every open document
with its unsaved text to the new gopls; an editor that declared window.workDoneProgress sees a
$/progress begin that says "restarting" (title or message) on a token created with
window/workDoneProgress/create, and one that did not sees no progress at all.

Without the keeper, a Restart ends the stock client (status 2, "remote disconnected"): the last test
keeps that, for the per-workspace socket, which keeps working as before.

Prints `FIGURE ...` lines: Restart (or kill -9) to the first correct hover on the kept connection,
and, for comparison, to the first correct hover of a fresh `gopls -remote` on the per-workspace
socket (start, initialize, reopen the document), which is what an editor needs today.
"""

import os
import signal
import socket as socket_module
import sys
import threading
import time
import unittest

from harness import lsp_client
from harness import session as s
from harness.lsp_client import CONTENT_MODIFIED, EditorClient, LspError

KEEPER_SOCKET_UNIT = "wslgo-lsp.socket"
KEEPER_SERVICE_UNIT = "wslgo-lsp.service"
KEEPER_SOCKET = os.path.join(s.RUNTIME_DIR, "wslgo-guard", "lsp.sock")

MAIN = os.path.join("cmd", "hello", "main.go")
GREET = os.path.join("greet", "greet.go")
# The unsaved edit: a comment with a character outside the BMP (two UTF-16 units, four UTF-8
# bytes) before the call on the same line, so the keeper's copy of the text must apply
# incremental edits in UTF-16 as the editor does; then a call of a new function, which exists
# only in the editor.
CALL = "fmt.Println(greet.Greeting(name))"
MARK = "/* \U0001F44B unsaved */ "
NEW_CALL = "fmt.Println(shout(greet.Greeting(name)))"
NEW_FUNC = ("\n// shout exists only in the editor's buffer.\n"
            "func shout(s string) string {\n\treturn s + \"!\"\n}\n")
# gopls may qualify the name ("func greet.Greeting(name string) string"); the tail is enough.
GREETING_HOVER = "Greeting(name string) string"
SHOUT_HOVER = "shout(s string) string"

RESTART_REASON = "e2e"
# initialize through the keeper: AttachEditor (adding the workspace, starting its unit) and
# gopls' answer, which does not wait for the module to load.
INITIALIZE_TIMEOUT = 30
ANSWER_TIMEOUT = 60      # any single request, including a gopls (re)loading the module
RECOVERY_TIMEOUT = 60    # Restart or kill -9 to the first correct answer


def figure(label, seconds):
    print(f"FIGURE {label}: {seconds:.2f} s", flush=True)


def note(message):
    print(f"e2e 10_keeper: {message}", file=sys.stderr, flush=True)


def workspace_restart(obj, reason=RESTART_REASON):
    s.call("Restart", "s", reason, path=obj, interface=s.WORKSPACE_IFACE, timeout=60)


def restarting_progress(value):
    text = f"{value.get('title', '')} {value.get('message', '')}".lower()
    return "restarting" in text



def all_threads_stopped(pid):
    """True when every thread of `pid` is in the stopped state (T in /proc/PID/task/TID/stat)."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
        states = []
        for tid in tids:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                # The state follows the command name, which is in parentheses and may hold spaces.
                states.append(f.read().rsplit(")", 1)[1].split()[0])
    except OSError:
        return False
    return bool(states) and all(state in ("T", "t") for state in states)

class Probe:
    """What one open document must answer: hover and definition at a position."""

    def __init__(self, editor, path, needle, offset, hover_text, target_path, target_needle,
                 target_offset):
        self.editor, self.path = editor, path
        self.needle, self.offset = needle, offset
        self.hover_text = hover_text
        self.target_path = target_path
        self.target_needle, self.target_offset = target_needle, target_offset

    def position(self):
        return self.editor.position(self.path, self.needle, offset_in_needle=self.offset)

    def target(self):
        return (self.target_path,
                self.editor.position(self.target_path, self.target_needle,
                                     offset_in_needle=self.target_offset))

    def params(self):
        p = self.position()
        return EditorClient.position_params(self.path, p["line"], p["character"])

    def hover_ok(self, result):
        return self.hover_text in lsp_client.hover_text(result)

    def definition_ok(self, result):
        return self.target() in lsp_client.locations(result)

    def check_hover(self, testcase, timeout=ANSWER_TIMEOUT):
        p = self.position()
        result = self.editor.hover(self.path, p["line"], p["character"], timeout)
        testcase.assertTrue(self.hover_ok(result),
                            f"{self.editor.name}: hover at {self.needle!r} {p}: {result!r}, "
                            f"expected it to say {self.hover_text!r}")

    def check_definition(self, testcase, timeout=ANSWER_TIMEOUT):
        p = self.position()
        result = self.editor.definition(self.path, p["line"], p["character"], timeout)
        testcase.assertIn(self.target(), lsp_client.locations(result),
                          f"{self.editor.name}: definition at {self.needle!r} {p}: {result!r}")

    def first_correct_hover(self, deadline):
        """Hovers until the answer is right; ContentModified means ask again (as editors do).
        A wrong answer fails at once: after a restart it would mean the keeper let a request
        through before the document was replayed."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.editor.name}: no correct hover at {self.needle!r} "
                                     f"in time; {self.editor.describe()}")
            try:
                result = self.editor.request("textDocument/hover", self.params(), remaining)
            except LspError as e:
                if e.code == CONTENT_MODIFIED:
                    time.sleep(0.05)
                    continue
                raise
            if not self.hover_ok(result):
                raise AssertionError(f"{self.editor.name}: a wrong hover at {self.needle!r}: "
                                     f"{result!r}, expected {self.hover_text!r}")
            return time.monotonic()


class Storm:
    """Hover and definition requests every 50 ms on one editor from a thread, so some are in
    flight when gopls goes away and some are sent while it is away."""

    def __init__(self, probe):
        self.probe = probe
        self.ids = []  # (id, "hover" | "definition")
        self.error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        n = 0
        try:
            while not self._stop.is_set():
                kind = "hover" if n % 2 == 0 else "definition"
                method = f"textDocument/{kind}"
                self.ids.append((self.probe.editor.send_request(method, self.probe.params()),
                                 kind))
                n += 1
                self._stop.wait(0.05)
        except Exception as e:  # the editor's pipe broke: the checks after stop() say so
            self.error = e

    def stop(self):
        self._stop.set()
        self._thread.join(10)


class Keeper(unittest.TestCase):
    def setUp(self):
        s.write_user_config(s.fast_sampling_config())
        s.enable_guard()
        self.editors = []

    def tearDown(self):
        for editor in self.editors:
            editor.close()

    # Helpers

    def editor(self, socket, root, name=None, progress=True):
        client = EditorClient(socket, root, progress=progress,
                              name=name or f"editor{len(self.editors) + 1}")
        self.editors.append(client)
        return client

    def start_keeper(self):
        """The keeper's socket, started as the issue says; it must exist (fail, not skip)."""
        load = s.unit_property(KEEPER_SOCKET_UNIT, "LoadState")
        self.assertEqual(load, "loaded",
                         f"{KEEPER_SOCKET_UNIT} is not installed (LoadState={load!r}): the "
                         "session keeper (wslgo-lsp.socket + wslgo-lsp.service) is missing from "
                         "this build")
        s.systemctl("start", KEEPER_SOCKET_UNIT)
        s.wait_active(KEEPER_SOCKET_UNIT, 30)
        s.wait_until(lambda: os.path.exists(KEEPER_SOCKET), 30,
                     f"the keeper's socket {KEEPER_SOCKET}")
        return KEEPER_SOCKET

    def remove_when_done(self, root):
        # Fewer gopls left running for the tests after this one (and their figures).
        self.addCleanup(lambda: s.call_fails("RemoveWorkspace", "s", root))

    def attached(self, root, editors):
        """The guard's workspace object for `root` once the keeper attached it, with
        `editors` editor connections."""
        obj = s.wait_until(lambda: s.workspace_object(root), 30,
                           f"the guard to know {root} after an editor's initialize on the keeper")
        s.wait_until(lambda: s.workspace_property(obj, "Editors") == editors, 30,
                     f"the workspace's Editors to be {editors}")
        return obj

    def open_workspace(self, name, count=1):
        """A copy of fixtures/hello and `count` editors on the keeper's socket, initialized,
        with main.go open and a correct hover (so gopls has loaded the module)."""
        socket = self.start_keeper()
        root = s.copy_fixture_module("hello", name)
        self.remove_when_done(root)
        editors = []
        for i in range(count):
            editor = self.editor(socket, root, name=f"{name}-editor{i + 1}")
            editor.initialize(INITIALIZE_TIMEOUT)
            editors.append(editor)
        obj = self.attached(root, count)
        main = os.path.join(root, MAIN)
        for editor in editors:
            editor.did_open(main)
            self.greeting_probe(editor, root).check_hover(self)
        return root, obj, editors

    def greeting_probe(self, editor, root):
        return Probe(editor, os.path.join(root, MAIN), "greet.Greeting(", len("greet."),
                     GREETING_HOVER, os.path.join(root, GREET), "func Greeting", len("func "))

    def unsaved_edit(self, editor, root):
        """Adds shout() and a call of it in the editor only; returns the probe at the call."""
        main = os.path.join(root, MAIN)
        editor.replace(main, CALL, MARK + CALL)
        editor.replace(main, CALL, NEW_CALL)
        editor.append(main, NEW_FUNC)
        with open(main, encoding="utf-8") as f:
            self.assertNotIn("shout", f.read(), "the edit must stay unsaved")
        probe = Probe(editor, main, "shout(greet", 0, SHOUT_HOVER, main, "func shout",
                      len("func "))
        probe.check_hover(self)
        probe.check_definition(self)
        return probe

    def wait_registrations(self, editor):
        s.wait_until(lambda: "workspace/didChangeConfiguration" in editor.registered_ids(), 30,
                     f"{editor.name}: gopls' registration of workspace/didChangeConfiguration "
                     f"(seen: {editor.registered_ids()})")

    def survives(self, probes, unit, disrupt, label, freeze=False):
        """Disrupts gopls (Restart or kill -9) while a storm of requests runs on the first
        editor; returns once every editor answered correctly again. Checks that every request
        was answered, each error is ContentModified, no answer was wrong, gopls -remote never
        exited and the unit's MainPID changed.

        With `freeze`, gopls is stopped (SIGSTOP) before the last request goes out, as a gopls
        busy with a slow request would be, so that request is surely in flight when gopls
        goes away (kill -9 only: the guard's Restart talks to gopls first)."""
        main_probe = probes[0]
        editor = main_probe.editor
        old_pid = int(s.unit_property(unit, "MainPID"))
        self.assertNotEqual(old_pid, 0, f"{unit} has no MainPID")
        if freeze:
            # gopls -remote relays one request at a time: this one is in flight at the stopped
            # gopls, the storm's wait behind it.
            os.kill(old_pid, signal.SIGSTOP)
            self.addCleanup(lambda: os.kill(old_pid, signal.SIGCONT)
                            if os.path.exists(f"/proc/{old_pid}") else None)
            # kill() returns once the signal is queued; each of gopls' threads stops when it
            # next runs, which on a loaded machine may be after a fast answer went out.
            s.wait_until(lambda: all_threads_stopped(old_pid), 10,
                         f"every thread of gopls {old_pid} to stop after SIGSTOP")
            just_before = editor.send_request("textDocument/hover", main_probe.params())
            storm = Storm(main_probe)
            time.sleep(0.5)  # through gopls -remote and the keeper, to the stopped gopls
            self.assertNotIn(just_before, editor.answered,
                             "a request to a stopped gopls was answered before it went away")
        else:
            storm = Storm(main_probe)
            time.sleep(0.2)
            just_before = editor.send_request("textDocument/hover", main_probe.params())
        self.addCleanup(storm.stop)  # when a check below fails; stop() may run twice
        started = time.monotonic()
        disrupt(old_pid)
        disrupted = time.monotonic()

        def new_pid():
            p = s.unit_properties(unit, "MainPID", "ActiveState")
            return (int(p["MainPID"]) if p["ActiveState"] == "active"
                    and p["MainPID"] not in ("0", str(old_pid)) else None)

        pid = s.wait_until(new_pid, RECOVERY_TIMEOUT,
                           f"{unit} to run a new gopls after {label} (old MainPID {old_pid})")
        deadline = started + RECOVERY_TIMEOUT
        # gopls -remote relays one request at a time: until this one is answered no later one
        # moves, so a lost answer shows here first.
        try:
            what, value = editor.outcome(just_before, max(1, deadline - time.monotonic()))
        except AssertionError as e:
            raise AssertionError(f"the request sent just before the {label} (id {just_before}) "
                                 f"was never answered (the stock client relays one request at "
                                 f"a time, so every later one waits behind it): {e}") from None
        note(f"{label}: the request sent just before it got "
             f"{value if what == 'error' else 'an answer'}")
        first = main_probe.first_correct_hover(deadline)
        storm.stop()
        figure(f"keeper {label}->first correct hover", first - started)
        if disrupted - started > 0.1:  # the guard's Restart returns once the new gopls runs
            figure(f"keeper {label} returned->first correct hover", first - disrupted)
        note(f"{label}: the call took {disrupted - started:.2f}s; new MainPID {pid}; "
             f"{len(storm.ids)} storm requests")
        for other in probes[1:]:
            other.first_correct_hover(deadline)
        self.assertIsNone(storm.error, f"the storm could not send: {storm.error}")

        outcomes = {"result": 0, "ContentModified": 0}
        for request_id, kind in [(just_before, "hover")] + storm.ids:
            what, value = editor.outcome(request_id, ANSWER_TIMEOUT)
            if what == "error":
                self.assertEqual(value.code, CONTENT_MODIFIED,
                                 f"request {request_id} ({kind}) around the {label}: {value}; "
                                 "the only error a request may get is ContentModified")
                outcomes["ContentModified"] += 1
            else:
                ok = (main_probe.hover_ok(value) if kind == "hover"
                      else main_probe.definition_ok(value))
                self.assertTrue(ok, f"request {request_id} ({kind}) around the {label} got a "
                                    f"wrong answer: {value!r}")
                outcomes["result"] += 1
        note(f"{label}: outcomes of the requests around it: {outcomes}")
        for probe in probes:
            self.assertEqual(probe.editor.unanswered(), [],
                             f"{probe.editor.name}: requests never answered")
            self.assertTrue(probe.editor.process_alive(),
                            f"gopls -remote exited across the {label}: {probe.editor.describe()}")
        return pid

    def after_restart_checks(self, probe):
        editor = probe.editor
        probe.check_hover(self)
        probe.check_definition(self)
        begin = editor.wait_progress_begin(restarting_progress, 30,
                                           "begin mentioning 'restarting'")
        token = begin.get("token")
        self.assertIn(token, editor.progress_tokens,
                      f"the $/progress token {token!r} was not created with "
                      "window/workDoneProgress/create first")
        note(f"{editor.name}: $/progress begin {begin}")
        self.assertEqual(editor.registered_twice(), [],
                         f"{editor.name}: registrations repeated while registered: "
                         f"{editor.registrations}")
        self.assertTrue(editor.process_alive(), editor.describe())
        self.assertNotIn("remote disconnected", editor.stderr_text())

    # The tests (in this order: unittest sorts them by name)

    def test_1_enabling_the_guard_pulls_in_the_keepers_socket(self):
        load = s.unit_property(KEEPER_SOCKET_UNIT, "LoadState")
        self.assertEqual(load, "loaded",
                         f"{KEEPER_SOCKET_UNIT} is not installed (LoadState={load!r})")
        self.assertIn(KEEPER_SOCKET_UNIT, s.unit_property(s.GUARD, "Wants").split(),
                      f"{s.GUARD} should have Wants={KEEPER_SOCKET_UNIT}")
        # Nothing in this boot started the socket but enable --now of the guard.
        s.wait_active(KEEPER_SOCKET_UNIT, 30)
        s.wait_until(lambda: os.path.exists(KEEPER_SOCKET), 30,
                     f"the keeper's socket {KEEPER_SOCKET}")
        self.assertEqual(s.unit_property(KEEPER_SOCKET_UNIT, "Listen").split(" ")[0],
                         KEEPER_SOCKET)

    def test_2_the_editor_client_works_on_a_per_workspace_socket(self):
        """The client itself, on what works today: AddWorkspace's socket."""
        root = s.copy_fixture_module("hello", "client-check")
        self.remove_when_done(root)
        obj, unit, socket = s.add_and_wait(root)
        editor = self.editor(socket, root)
        result = editor.initialize()
        self.assertIn("hoverProvider", result.get("capabilities", {}), result)
        main = os.path.join(root, MAIN)
        editor.did_open(main)
        greeting = self.greeting_probe(editor, root)
        greeting.check_hover(self)
        greeting.check_definition(self)
        self.unsaved_edit(editor, root)
        self.wait_registrations(editor)
        self.assertEqual(editor.registered_twice(), [])
        self.assertEqual(editor.unanswered(), [])
        code = editor.shutdown()
        # 2 ("remote disconnected: ... use of closed network connection") for a current gopls:
        # on exit gopls closes the session's connection, which the client reports as such.
        self.assertIn(code, (0, 2), f"gopls -remote after shutdown/exit: {editor.describe()}")
        self.assertEqual(s.unit_property(unit, "ActiveState"), "active",
                         "an editor's shutdown/exit must not end the shared gopls")

    def test_3_an_editor_through_the_keeper_attaches_and_gopls_answers(self):
        root, obj, (editor,) = self.open_workspace("keeper-attach")
        self.assertEqual(s.workspace_property(obj, "Path"), root)
        unit = s.workspace_property(obj, "Unit")
        self.assertEqual(unit, s.gopls_unit_for(root))
        self.assertEqual(s.unit_property(unit, "ActiveState"), "active")
        self.assertEqual(s.unit_property(KEEPER_SERVICE_UNIT, "ActiveState"), "active",
                         "a connection on the keeper's socket starts the keeper")
        greeting = self.greeting_probe(editor, root)
        greeting.check_hover(self)
        greeting.check_definition(self)

    def test_4_an_unsaved_edit_survives_the_guards_restart_on_the_same_connection(self):
        root, obj, (editor,) = self.open_workspace("keeper-restart")
        unit = s.workspace_property(obj, "Unit")
        self.wait_registrations(editor)
        probe = self.unsaved_edit(editor, root)
        monitor = s.SignalMonitor(
            f"type='signal',interface='{s.WORKSPACE_IFACE}',member='Restarting'")
        try:
            old_pid = int(s.unit_property(unit, "MainPID"))
            new_pid = self.survives([probe], unit, lambda pid: workspace_restart(obj),
                                    "Restart")
            monitor.wait_for("Restarting", lambda path, data: path == obj
                             and RESTART_REASON in data[0], 30,
                             f"from {obj} with reason {RESTART_REASON!r}")
        finally:
            monitor.close()
        self.assertNotEqual(new_pid, old_pid)
        self.after_restart_checks(probe)
        self.greeting_probe(editor, root).check_definition(self)
        self.assertEqual(s.workspace_property(obj, "Editors"), 1)

    def test_5_two_editors_on_one_workspace_both_survive_a_restart(self):
        root, obj, (first, second) = self.open_workspace("keeper-two", count=2)
        unit = s.workspace_property(obj, "Unit")
        probes = [self.unsaved_edit(first, root), self.greeting_probe(second, root)]
        self.survives(probes, unit, lambda pid: workspace_restart(obj), "Restart (two editors)")
        for probe in probes:
            self.after_restart_checks(probe)
        self.assertEqual(s.workspace_property(obj, "Editors"), 2)
        code = second.shutdown()
        # The stock client exits 2 ("remote disconnected") even then: gopls ends the session's
        # connection on exit, and the client cannot tell that from a crash.
        self.assertIn(code, (0, 2), f"{second.name} after shutdown/exit: {second.describe()}")
        s.wait_until(lambda: s.workspace_property(obj, "Editors") == 1, 30,
                     "Editors to drop to 1 after one editor's shutdown")
        probes[0].check_hover(self)
        self.assertTrue(first.process_alive(), first.describe())

    def test_6_an_editor_without_progress_support_gets_no_progress(self):
        root, obj, (editor,) = self.open_workspace("keeper-quiet")
        quiet = self.editor(KEEPER_SOCKET, root, name="quiet-editor", progress=False)
        quiet.initialize(INITIALIZE_TIMEOUT)
        s.wait_until(lambda: s.workspace_property(obj, "Editors") == 2, 30, "Editors to be 2")
        quiet.did_open(os.path.join(root, MAIN))
        probes = [self.greeting_probe(editor, root), self.greeting_probe(quiet, root)]
        probes[1].check_hover(self)
        unit = s.workspace_property(obj, "Unit")
        self.survives(probes, unit, lambda pid: workspace_restart(obj), "Restart (quiet editor)")
        probes[1].check_definition(self)
        self.assertEqual(quiet.notifications_of("$/progress"), [],
                         "an editor that did not declare window.workDoneProgress got $/progress")
        self.assertEqual(quiet.progress_tokens, [],
                         "an editor that did not declare window.workDoneProgress was asked to "
                         "create a progress token")
        told = [p.get("message") for p in quiet.notifications_of("window/logMessage")
                if "restarting" in p.get("message", "").lower()]
        note(f"{quiet.name}: log messages about the restart: {told}")

    def test_7_an_unsaved_edit_survives_kill_9_of_gopls(self):
        root, obj, (editor,) = self.open_workspace("keeper-kill")
        unit = s.workspace_property(obj, "Unit")
        self.wait_registrations(editor)
        probe = self.unsaved_edit(editor, root)
        old_pid = int(s.unit_property(unit, "MainPID"))
        new_pid = self.survives([probe], unit, lambda pid: os.kill(pid, signal.SIGKILL),
                                "kill -9", freeze=True)
        self.assertNotEqual(new_pid, old_pid)
        self.after_restart_checks(probe)
        self.assertEqual(s.workspace_property(obj, "Editors"), 1)

    def test_8_without_the_keeper_a_restart_ends_the_stock_client(self):
        """Today, on the per-workspace socket: the Restart ends `gopls -remote` with status 2
        ("remote disconnected"), and the editor must start a new one, initialize and reopen its
        documents. This is why the keeper exists; the per-workspace socket keeps working so."""
        root = s.copy_fixture_module("hello", "per-workspace")
        self.remove_when_done(root)
        obj, unit, socket = s.add_and_wait(root)
        editor = self.editor(socket, root, name="per-workspace-editor")
        editor.initialize()
        editor.did_open(os.path.join(root, MAIN))
        self.greeting_probe(editor, root).check_hover(self)
        old_pid = int(s.unit_property(unit, "MainPID"))

        started = time.monotonic()
        workspace_restart(obj)
        returned = time.monotonic()
        code = editor.wait_exit(60)
        exited = time.monotonic()
        self.assertEqual(code, 2, f"gopls -remote after the Restart: {editor.describe()}")
        self.assertIn("remote disconnected", editor.stderr_text())

        # What an editor does then: a new gopls -remote, initialize, reopen, ask again. A client
        # started before the new gopls listens gives up after its own retries; start another.
        deadline = started + RECOVERY_TIMEOUT
        attempts = 0
        while True:
            attempts += 1
            fresh = self.editor(socket, root, name=f"fresh-editor{attempts}")
            try:
                fresh.initialize(timeout=max(1, deadline - time.monotonic()))
                fresh.did_open(os.path.join(root, MAIN))
                first = self.greeting_probe(fresh, root).first_correct_hover(deadline)
                break
            except lsp_client.ClientGone:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        figure("per-workspace socket Restart->first correct hover "
               "(old client exits, fresh gopls -remote, initialize, reopen)", first - started)
        figure("per-workspace socket Restart returned->first correct hover", first - returned)
        note(f"per-workspace: the old client exited {exited - started:.2f}s after the call; "
             f"{attempts} fresh client(s)")
        self.assertNotEqual(int(s.unit_property(unit, "MainPID")), old_pid)

    def test_9_garbage_on_one_connection_closes_that_connection_alone(self):
        root, obj, (editor,) = self.open_workspace("keeper-garbage")
        keeper_pid = s.unit_property(KEEPER_SERVICE_UNIT, "MainPID")
        garbage = [
            b"Content-Length: many\r\n\r\n{}",                     # a header that is no length
            b"Content-Length: 6\r\n\r\n[1, 2]",                    # JSON, but not a message
            b"Content-Length: 12\r\n\r\n{\"id\": true}",          # an id no request has
            b"Content-Length: 999999999999\r\n\r\n",               # a body past the bound
        ]
        for raw in garbage:
            with socket_module.socket(socket_module.AF_UNIX, socket_module.SOCK_STREAM) as bad:
                bad.settimeout(10)
                bad.connect(KEEPER_SOCKET)
                bad.sendall(raw)
                try:
                    closed = bad.recv(4096) == b""
                except ConnectionResetError:
                    closed = True
                self.assertTrue(closed, f"the keeper kept a connection that sent {raw!r}")
        self.assertEqual(s.unit_property(KEEPER_SERVICE_UNIT, "MainPID"), keeper_pid,
                         "the keeper restarted")
        self.greeting_probe(editor, root).check_hover(self)
        self.assertTrue(editor.process_alive(), editor.describe())
        self.assertEqual(s.workspace_property(obj, "Editors"), 1)

    def test_10_restarting_the_guard_disturbs_no_editor(self):
        root, obj, (editor,) = self.open_workspace("keeper-guard-restart")
        gopls_pid = s.unit_property(s.workspace_property(obj, "Unit"), "MainPID")
        guard_pid = s.unit_property(s.GUARD, "MainPID")
        s.systemctl("restart", s.GUARD, timeout=90)
        s.wait_active(s.GUARD, 30)
        self.assertNotEqual(s.unit_property(s.GUARD, "MainPID"), guard_pid)
        # The new guard learns the editors again from the keeper, which watches its name.
        obj = self.attached(root, 1)
        self.greeting_probe(editor, root).check_hover(self)
        self.assertTrue(editor.process_alive(), editor.describe())
        self.assertEqual(s.unit_property(s.workspace_property(obj, "Unit"), "MainPID"),
                         gopls_pid, "the guard's restart restarted gopls")


if __name__ == "__main__":
    unittest.main()
