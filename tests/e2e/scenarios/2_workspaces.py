"""Scenario 2: AddWorkspace on a small and a larger module; gopls answers through the socket;
the guard's memory figures agree with the cgroup and /proc."""

import glob
import os
import shutil
import unittest

from harness import session as s

GOROOT_SRC = next((p for p in ("/usr/lib/go-1.19/src", "/usr/share/go-1.19/src")
                   if os.path.isdir(p)), None)


def definition(socket, root, path, needle, offset=0):
    line, column = s.position_of(path, needle, offset_in_needle=offset)
    out = s.gopls(socket, root, "definition", f"{path}:{line}:{column}").stdout
    return out.strip()


def big_module():
    """Go's own go/... packages (~200 files with their tests) as a user's module under ~/src/big."""
    target = os.path.join(s.HOME, "src", "big")
    shutil.copytree(os.path.join(GOROOT_SRC, "go"), os.path.join(target, "go"),
                    ignore=shutil.ignore_patterns("testdata"))
    with open(os.path.join(target, "go.mod"), "w") as f:
        f.write("module example.com/big\n\ngo 1.19\n")
    return target


class Workspaces(unittest.TestCase):
    def setUp(self):
        s.write_user_config(s.fast_sampling_config())
        s.enable_guard()

    def test_a_small_module_gets_its_unit_and_gopls_answers_across_packages(self):
        root = s.copy_fixture_module("hello")
        obj, unit, socket = s.add_and_wait(root)
        self.assertEqual(unit, s.gopls_unit_for(root))
        self.assertEqual(s.workspace_property(obj, "Path"), root)
        self.assertTrue(socket.startswith(os.path.join(s.RUNTIME_DIR, "wslgo-guard") + "/"),
                        socket)
        answer = definition(socket, root, os.path.join(root, "cmd", "hello", "main.go"),
                            "greet.Greeting(", offset=len("greet."))
        greet = os.path.join(root, "greet", "greet.go")
        line, column = s.position_of(greet, "func Greeting", offset_in_needle=len("func "))
        self.assertTrue(answer.startswith(f"{greet}:{line}:{column}"),
                        f"gopls' definition of greet.Greeting: {answer!r}, "
                        f"expected {greet}:{line}:{column}")

    def test_memory_current_rss_and_heap_are_non_zero_and_agree_with_the_cgroup_and_proc(self):
        root = s.copy_fixture_module("hello", "hello-memory")
        obj, unit, socket = s.add_and_wait(root)
        s.gopls(socket, root, "check", os.path.join(root, "greet", "greet.go"))
        pid = int(s.unit_property(unit, "MainPID"))
        s.wait_until(lambda: s.workspace_property(obj, "MainPID") == pid, 20,
                     f"the workspace's MainPID to be the unit's ({pid})")
        memory_file = s.cgroup_memory_file(s.unit_property(unit, "ControlGroup"))
        debug_address = s.workspace_property(obj, "DebugAddress")
        # Debian's gopls keeps its heap in use within its cgroup's memory. A current gopls does
        # not: its in-use spans hold pages it has not touched yet, which are not resident (seen:
        # 131 MiB HeapInuse, 64 MiB VmRSS, 46 MiB memory.usage_in_bytes). Both must report the
        # heap figure gopls itself reports.
        heap_inside_cgroup = s.is_old_gopls()
        seen = []

        def agreeing():
            figures = {name: s.workspace_property(obj, name)
                       for name in ("MemoryCurrent", "RSS", "HeapInUse")}
            others = {"cgroup": s.read_int(memory_file),
                      "VmRSS": s.proc_status_kib(pid, "VmRSS") * 1024,
                      "gopls' HeapInuse": s.gopls_heap_inuse(debug_address)}
            seen[:] = [figures, others]
            ok = (all(v > 0 for v in figures.values())
                  and s.close_enough(figures["MemoryCurrent"], others["cgroup"])
                  and s.close_enough(figures["RSS"], others["VmRSS"])
                  and s.close_enough(figures["HeapInUse"], others["gopls' HeapInuse"])
                  and (figures["HeapInUse"] < figures["MemoryCurrent"] or not heap_inside_cgroup))
            return figures if ok else None

        what = (f"non-zero figures agreeing with {memory_file}, /proc/{pid}/status and gopls' "
                "own MemStats" + (", the heap within the cgroup's memory" if heap_inside_cgroup
                                  else ""))
        try:
            figures = s.wait_until(agreeing, 30, what)
        except AssertionError as e:
            raise AssertionError(f"{e}; the guard's figures and the others: {seen}") from None
        self.assertGreater(figures["HeapInUse"], 0)

    def test_a_larger_real_module_starts_and_gopls_answers_inside_it(self):
        self.assertIsNotNone(GOROOT_SRC, "Go 1.19's sources are missing (package golang-1.19-src)")
        root = big_module()
        self.assertGreater(len(glob.glob(os.path.join(root, "go", "**", "*.go"),
                                         recursive=True)), 150)
        obj, unit, socket = s.add_and_wait(root)
        interface = os.path.join(root, "go", "parser", "interface.go")
        answer = definition(socket, root, interface, "p.init(", offset=len("p."))
        parser = os.path.join(root, "go", "parser", "parser.go")
        line, column = s.position_of(parser, "func (p *parser) init(",
                                     offset_in_needle=len("func (p *parser) "))
        self.assertTrue(answer.startswith(f"{parser}:{line}:{column}"),
                        f"gopls' definition of p.init: {answer!r}, expected {parser}:{line}")
        s.wait_until(lambda: s.workspace_property(obj, "MemoryCurrent") > 0, 30,
                     "MemoryCurrent of the larger workspace")
        self.assertEqual(s.unit_property(unit, "ActiveState"), "active")


if __name__ == "__main__":
    unittest.main()
