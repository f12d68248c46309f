"""An editor as gopls sees it: the stock `gopls -remote=unix;SOCKET` started as a subprocess and
spoken to over its stdin/stdout in LSP (Content-Length framing, JSON-RPC 2.0), stdlib only.

    editor = EditorClient(socket, root)       # starts GOPLS -remote=unix;SOCKET in `root`
    editor.initialize()                       # initialize, then initialized
    editor.did_open(path)
    editor.hover(path, line, character)       # 0-based, UTF-16, as LSP counts
    editor.shutdown()                         # shutdown + exit, waits for the process

It answers the server's requests as an editor would (workspace/configuration, registrations,
progress tokens) and records them, records every notification, and keeps every request it sent
until it is answered, so a test can ask what is still unanswered. Every wait is bounded and says
what it awaited and what it last saw.

What the stock client itself does (gopls v0.23.0 and Debian's 0.5.0 alike), which tests see:
- before it reads a byte from us it sends `gopls/handshake` to the socket and waits for the
  answer, so whatever listens there must answer that first;
- it relays our requests one at a time (the next goes out once the previous is answered), and it
  renumbers ids both ways;
- it exits 2 with "gopls: remote disconnected: ..." on stderr when the socket's side closes,
  which is also what a clean shutdown + exit ends with, since gopls closes the session then.
"""

import collections
import json
import os
import subprocess
import threading
import time
import urllib.parse

CONTENT_MODIFIED = -32801
REQUEST_CANCELLED = -32800

GOPLS = os.environ.get("GOPLS", "gopls")


class LspError(Exception):
    """A JSON-RPC error response to one of our requests."""

    def __init__(self, code, message, data=None, method=""):
        super().__init__(f"{method or 'request'}: LSP error {code}: {message}")
        self.code = code
        self.message = message
        self.data = data
        self.method = method


class ClientGone(AssertionError):
    """The `gopls -remote` process exited (or closed its stdout) while we waited for it."""


# Paths, URIs and positions

def uri(path):
    return "file://" + urllib.parse.quote(os.path.abspath(path))


def path_of(file_uri):
    if not file_uri.startswith("file://"):
        raise AssertionError(f"not a file URI: {file_uri!r}")
    return urllib.parse.unquote(file_uri[len("file://"):])


def utf16_len(text):
    return len(text.encode("utf-16-le")) // 2


def lsp_position(text, needle, occurrence=1, offset_in_needle=0):
    """{"line", "character"}, 0-based with UTF-16 columns as LSP counts them, of the n-th
    occurrence of `needle` in `text` (plus `offset_in_needle` characters into it)."""
    start = -1
    for _ in range(occurrence):
        start = text.find(needle, start + 1)
        if start < 0:
            raise AssertionError(f"{needle!r} does not occur {occurrence} time(s) in the text")
    offset = start + offset_in_needle
    line = text.count("\n", 0, offset)
    line_start = text.rfind("\n", 0, offset) + 1
    return {"line": line, "character": utf16_len(text[line_start:offset])}


def file_position(path, needle, occurrence=1, offset_in_needle=0):
    """lsp_position of a file's text on disk."""
    with open(path, encoding="utf-8") as f:
        return lsp_position(f.read(), needle, occurrence, offset_in_needle)


def offset_of(text, position):
    """The index into `text` of an LSP position (0-based line, UTF-16 character)."""
    line, character = position["line"], position["character"]
    index = 0
    for _ in range(line):
        index = text.find("\n", index)
        if index < 0:
            raise AssertionError(f"position {position} is past the end of the text")
        index += 1
    units = 0
    while units < character:
        if index >= len(text) or text[index] == "\n":
            raise AssertionError(f"position {position} is past the end of its line")
        units += utf16_len(text[index])
        index += 1
    return index


def end_position(text):
    return {"line": text.count("\n"),
            "character": utf16_len(text[text.rfind("\n") + 1:])}


def apply_change(text, change):
    """One TextDocumentContentChangeEvent applied to `text` (a range edit, or the whole text)."""
    if "range" not in change:
        return change["text"]
    start = offset_of(text, change["range"]["start"])
    end = offset_of(text, change["range"]["end"])
    return text[:start] + change["text"] + text[end:]


def hover_text(result):
    """The text of a Hover result (MarkupContent, MarkedString or a list of them); "" for null."""
    if not result:
        return ""
    contents = result.get("contents")
    parts = contents if isinstance(contents, list) else [contents]
    texts = []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict):
            texts.append(part.get("value", ""))
    return "\n".join(texts)


def locations(result):
    """[(path, {"line", "character"})] of a definition result (Location, [Location] or
    [LocationLink]); empty for null."""
    if not result:
        return []
    items = result if isinstance(result, list) else [result]
    found = []
    for item in items:
        if "targetUri" in item:
            found.append((path_of(item["targetUri"]), item["targetSelectionRange"]["start"]))
        else:
            found.append((path_of(item["uri"]), item["range"]["start"]))
    return found


class EditorClient:
    """One editor connection: a `gopls -remote=unix;SOCKET` process, cwd = the workspace."""

    def __init__(self, socket, root, progress=True, gopls=None, name="editor", settings=None,
                 extra_args=()):
        self.socket = socket
        self.root = root
        self.progress = progress
        self.name = name
        self.settings = settings or {}
        self.argv = [gopls or GOPLS, f"-remote=unix;{socket}", *extra_args]
        self.started = time.monotonic()
        self._process = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, cwd=root)
        self._write_lock = threading.Lock()
        self._cond = threading.Condition()
        self._next_id = 0
        self._eof = False
        self._reader_error = None
        self._responses = {}       # id -> response message
        self.sent = {}             # id -> (method, params, monotonic time sent)
        self.answered = {}         # id -> monotonic time answered
        self.notifications = []    # (monotonic time, method, params)
        self.server_requests = []  # (monotonic time, method, params, our answer)
        self.registrations = []    # (monotonic time, "register" | "unregister", id, method)
        self.progress_tokens = []  # tokens of window/workDoneProgress/create
        self.documents = {}        # path -> {"text": ..., "version": ...}
        self.server_capabilities = None
        self.stderr_tail = collections.deque(maxlen=200)
        threading.Thread(target=self._read, name=f"{name}-stdout", daemon=True).start()
        threading.Thread(target=self._read_stderr, name=f"{name}-stderr", daemon=True).start()

    # The process

    @property
    def pid(self):
        return self._process.pid

    @property
    def returncode(self):
        return self._process.poll()

    def process_alive(self):
        return self._process.poll() is None

    def stderr_text(self):
        return "\n".join(self.stderr_tail)

    def wait_exit(self, timeout):
        """The process's exit status, once it has exited by itself within `timeout`."""
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name}: `{' '.join(self.argv)}` (pid {self.pid}) still "
                                 f"runs after {timeout:.0f}s; its stderr: "
                                 f"{self.stderr_text()[-2000:]!r}") from None

    def describe(self):
        """What this client last saw: for the messages of failed waits."""
        status = ("running" if self.process_alive()
                  else f"exited with status {self.returncode}")
        with self._cond:
            last = [m for _, m, _ in self.notifications[-5:]]
            pending = self.unanswered()
            unanswered = [f"{i}:{self.sent[i][0]}" for i in pending[:8]]
            if len(pending) > 8:
                unanswered.append(f"... {len(pending) - 8} more")
        stderr = self.stderr_text()[-1500:]
        return (f"{self.name}: gopls -remote {status}; unanswered requests {unanswered}; "
                f"last notifications {last}; stderr tail {stderr!r}")

    # Framing

    def _read(self):
        stream = self._process.stdout
        try:
            while True:
                length = None
                while True:
                    line = stream.readline()
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        break
                    key, _, value = line.decode("ascii", "replace").partition(":")
                    if key.strip().lower() == "content-length":
                        length = int(value.strip())
                if length is None:
                    raise ValueError("a message without Content-Length")
                body = stream.read(length)
                if len(body) < length:
                    return
                self._dispatch(json.loads(body.decode("utf-8")))
        except Exception as e:  # a broken frame must show in the waits, not kill a thread silently
            self._reader_error = e
        finally:
            with self._cond:
                self._eof = True
                self._cond.notify_all()

    def _read_stderr(self):
        for line in self._process.stderr:
            self.stderr_tail.append(line.decode("utf-8", "replace").rstrip("\n"))

    def _send(self, message):
        body = json.dumps(message).encode("utf-8")
        with self._write_lock:
            try:
                self._process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
                self._process.stdin.flush()
            except (BrokenPipeError, ValueError, OSError) as e:
                raise ClientGone(f"{self.name}: cannot write to gopls -remote ({e}); "
                                 f"{self.describe()}") from None

    def _dispatch(self, message):
        now = time.monotonic()
        if "method" in message and "id" in message:
            answer = self._answer(message["method"], message.get("params"))
            with self._cond:
                self.server_requests.append((now, message["method"], message.get("params"),
                                             answer))
                self._cond.notify_all()
            try:
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": answer})
            except ClientGone:
                pass
        elif "method" in message:
            with self._cond:
                self.notifications.append((now, message["method"], message.get("params")))
                self._cond.notify_all()
        else:
            with self._cond:
                self._responses[message.get("id")] = message
                self.answered[message.get("id")] = now
                self._cond.notify_all()

    def _answer(self, method, params):
        """What an editor answers to a server->client request."""
        params = params or {}
        if method == "workspace/configuration":
            return [dict(self.settings) if item.get("section") == "gopls" else {}
                    for item in params.get("items", [])]
        if method == "client/registerCapability":
            with self._cond:
                for r in params.get("registrations", []):
                    self.registrations.append((time.monotonic(), "register", r.get("id"),
                                               r.get("method")))
            return None
        if method == "client/unregisterCapability":
            # The LSP spells this field "unregisterations".
            with self._cond:
                for r in params.get("unregisterations", params.get("unregistrations", [])):
                    self.registrations.append((time.monotonic(), "unregister", r.get("id"),
                                               r.get("method")))
            return None
        if method == "window/workDoneProgress/create":
            with self._cond:
                self.progress_tokens.append(params.get("token"))
            return None
        return None

    # Requests and notifications

    def notify(self, method, params=None):
        message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)

    def send_request(self, method, params=None):
        """Sends a request and returns its id at once; wait_response(id) gets its answer."""
        with self._cond:
            self._next_id += 1
            request_id = self._next_id
            self.sent[request_id] = (method, params, time.monotonic())
        message = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)
        return request_id

    def wait_response(self, request_id, timeout=60):
        """The result of request `request_id`; raises LspError for an error response."""
        method = self.sent.get(request_id, ("?",))[0]
        deadline = time.monotonic() + timeout
        with self._cond:
            while request_id not in self._responses:
                remaining = deadline - time.monotonic()
                if self._eof:
                    raise ClientGone(f"{self.name}: no answer to {method} (id {request_id}): "
                                     f"gopls -remote closed its output"
                                     f"{f' ({self._reader_error})' if self._reader_error else ''}"
                                     f"; {self.describe()}")
                if remaining <= 0:
                    raise AssertionError(f"{self.name}: no answer to {method} (id {request_id}) "
                                         f"within {timeout:.0f}s; {self.describe()}")
                self._cond.wait(min(remaining, 0.5))
            message = self._responses[request_id]
        error = message.get("error")
        if error is not None:
            raise LspError(error.get("code"), error.get("message", ""), error.get("data"), method)
        return message.get("result")

    def outcome(self, request_id, timeout=60):
        """("result", result) or ("error", LspError) of one request, for checks over many."""
        try:
            return "result", self.wait_response(request_id, timeout)
        except LspError as e:
            return "error", e

    def request(self, method, params=None, timeout=60):
        return self.wait_response(self.send_request(method, params), timeout)

    def unanswered(self):
        with self._cond:
            return [i for i in self.sent if i not in self._responses]

    # Notifications the server sent

    def wait_notification(self, method, predicate=lambda params: True, timeout=30, what=""):
        """The params of the first `method` notification (seen before or after the call) for
        which predicate(params) holds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for _, m, params in self.notifications:
                    if m == method and predicate(params):
                        return params
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._eof:
                    seen = [p for _, m, p in self.notifications if m == method][-5:]
                    why = "gopls -remote closed its output" if self._eof else \
                        f"nothing within {timeout:.0f}s"
                    raise AssertionError(f"{self.name}: no {method} {what}: {why}; the last "
                                         f"{method} seen: {seen}; {self.describe()}")
                self._cond.wait(min(remaining, 0.5))

    def notifications_of(self, method):
        with self._cond:
            return [params for _, m, params in self.notifications if m == method]

    def progress_begins(self):
        """The `value`s of every $/progress begin seen: {"kind": "begin", "title", "message"...}."""
        return [p.get("value", {}) for p in self.notifications_of("$/progress")
                if isinstance(p.get("value"), dict) and p["value"].get("kind") == "begin"]

    def wait_progress_begin(self, predicate, timeout=30, what=""):
        return self.wait_notification(
            "$/progress", lambda p: isinstance(p.get("value"), dict)
            and p["value"].get("kind") == "begin" and predicate(p["value"]), timeout, what)

    def registered_twice(self):
        """Registration ids the server registered again while they were still registered
        (something an editor refuses); an id unregistered first may be registered anew."""
        active, twice = set(), []
        with self._cond:
            events = list(self.registrations)
        for _, kind, reg_id, method in events:
            if kind == "register":
                if reg_id in active:
                    twice.append((reg_id, method))
                active.add(reg_id)
            else:
                active.discard(reg_id)
        return twice

    def registered_ids(self):
        with self._cond:
            return [reg_id for _, kind, reg_id, _ in self.registrations if kind == "register"]

    # The LSP conversation of an editor

    def initialize(self, timeout=60):
        """initialize with an editor's capabilities, then initialized; returns the result."""
        folder = {"uri": uri(self.root), "name": os.path.basename(self.root.rstrip("/"))}
        params = {
            "processId": os.getpid(),
            "clientInfo": {"name": "wslgo-e2e-editor", "version": "1"},
            "locale": "en",
            "rootPath": self.root,
            "rootUri": uri(self.root),
            "workspaceFolders": [folder],
            "trace": "off",
            "capabilities": {
                "general": {"positionEncodings": ["utf-16"]},
                "window": {"workDoneProgress": bool(self.progress),
                           "showMessage": {"messageActionItem": {
                               "additionalPropertiesSupport": False}}},
                "workspace": {
                    "applyEdit": False,
                    "configuration": True,
                    "workspaceFolders": True,
                    "didChangeConfiguration": {"dynamicRegistration": True},
                    "didChangeWatchedFiles": {"dynamicRegistration": True,
                                              "relativePatternSupport": True},
                },
                "textDocument": {
                    "synchronization": {"dynamicRegistration": True, "willSave": False,
                                        "willSaveWaitUntil": False, "didSave": True},
                    "hover": {"dynamicRegistration": True,
                              "contentFormat": ["plaintext", "markdown"]},
                    "definition": {"dynamicRegistration": True, "linkSupport": False},
                    "publishDiagnostics": {"relatedInformation": True},
                },
            },
        }
        result = self.request("initialize", params, timeout)
        self.server_capabilities = (result or {}).get("capabilities")
        self.notify("initialized", {})
        return result

    def did_open(self, path, text=None, language_id="go"):
        if text is None:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        self.documents[path] = {"text": text, "version": 1}
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri(path), "languageId": language_id, "version": 1, "text": text}})

    def did_change(self, path, version, changes):
        """Incremental edits ({"range": {start, end}, "text"}; UTF-16 positions) applied in
        order to our copy of the document too."""
        document = self.documents[path]
        for change in changes:
            document["text"] = apply_change(document["text"], change)
        document["version"] = version
        self.notify("textDocument/didChange", {
            "textDocument": {"uri": uri(path), "version": version},
            "contentChanges": list(changes)})

    def replace(self, path, old, new, occurrence=1):
        """An incremental edit replacing the n-th `old` in the open document by `new`."""
        text = self.text(path)
        start = lsp_position(text, old, occurrence)
        end = lsp_position(text, old, occurrence, len(old))
        self.did_change(path, self.documents[path]["version"] + 1,
                        [{"range": {"start": start, "end": end}, "text": new}])

    def append(self, path, new):
        """An incremental edit inserting `new` at the end of the open document."""
        end = end_position(self.text(path))
        self.did_change(path, self.documents[path]["version"] + 1,
                        [{"range": {"start": end, "end": end}, "text": new}])

    def text(self, path):
        """The open document's text as this editor holds it (unsaved edits included)."""
        return self.documents[path]["text"]

    def position(self, path, needle, occurrence=1, offset_in_needle=0):
        """lsp_position in the open document (unsaved edits included) or else on disk."""
        if path in self.documents:
            return lsp_position(self.text(path), needle, occurrence, offset_in_needle)
        return file_position(path, needle, occurrence, offset_in_needle)

    def did_close(self, path):
        self.documents.pop(path, None)
        self.notify("textDocument/didClose", {"textDocument": {"uri": uri(path)}})

    @staticmethod
    def position_params(path, line, character):
        return {"textDocument": {"uri": uri(path)},
                "position": {"line": line, "character": character}}

    def hover(self, path, line, character, timeout=60):
        return self.request("textDocument/hover", self.position_params(path, line, character),
                            timeout)

    def definition(self, path, line, character, timeout=60):
        return self.request("textDocument/definition",
                            self.position_params(path, line, character), timeout)

    def shutdown(self, timeout=30):
        """shutdown, exit, end of input; returns the exit status of gopls -remote."""
        self.request("shutdown", None, timeout)
        self.notify("exit")
        try:
            self._process.stdin.close()
        except OSError:
            pass
        return self.wait_exit(timeout)

    def close(self, timeout=10):
        """Ends the connection as an editor closing does: end of input, then kill if need be."""
        try:
            self._process.stdin.close()
        except OSError:
            pass
        if self._process.poll() is None:
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        for stream in (self._process.stdout, self._process.stderr):
            try:
                stream.close()
            except OSError:
                pass
