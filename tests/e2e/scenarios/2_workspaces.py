"""Scenario 2: AddWorkspace on a small and a larger module; gopls answers through the socket;
the guard's memory figures agree with the cgroup and /proc, and it says where they come from and
which memory limits the kernel enforces for the unit."""

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


# Far above any gopls here, so they never act; set, so GetStatus and the journal must say
# whether the kernel enforces them for the unit.
MEMORY_LIMITS = {"memory_high": "3G", "memory_max": "4G"}


class Workspaces(unittest.TestCase):
    def setUp(self):
        s.write_user_config(s.fast_sampling_config(workspaces={"default": MEMORY_LIMITS}))
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
        control_group = s.unit_property(unit, "ControlGroup")
        # Root's units have a memory cgroup each; a normal user's have one only where memory is
        # a cgroup2 controller (pure v2). Without, the guard sums VmRSS over the unit's
        # cgroup.procs (gopls and its telemetry child), which must then match /proc.
        source, memory_file = s.unit_memory_source(control_group)
        if s.units_get_memory_cgroups():
            self.assertNotEqual(source, "process-rss", f"no memory cgroup for {control_group}")
        else:
            self.assertEqual(source, "process-rss",
                             f"a normal user's unit has a v1 memory cgroup: {control_group}")
        s.wait_until(lambda: s.workspace_status(root)["memory_source"] == source, 20,
                     f"GetStatus' memory_source to be {source}")
        if source == "process-rss":
            # Said plainly, once, rather than as a missing v1 file.
            s.wait_until(lambda: [e for e in s.journal() if e.get("WORKSPACE") == root
                                  and "summed RSS of the unit's processes" in e.get("MESSAGE", "")],
                         20, f"the journal saying {root}'s figure is the summed RSS")

        def memory_on_disk():
            if memory_file:
                return s.read_int(memory_file)
            return s.summed_vm_rss(s.cgroup_pids(control_group))

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
            others = {"cgroup": memory_on_disk(),
                      "VmRSS": s.proc_status_kib(pid, "VmRSS") * 1024,
                      "gopls' HeapInuse": s.gopls_heap_inuse(debug_address)}
            seen[:] = [figures, others]
            ok = (all(v > 0 for v in figures.values())
                  and s.close_enough(figures["MemoryCurrent"], others["cgroup"])
                  and s.close_enough(figures["RSS"], others["VmRSS"])
                  and s.close_enough(figures["HeapInUse"], others["gopls' HeapInuse"])
                  and (figures["HeapInUse"] < figures["MemoryCurrent"] or not heap_inside_cgroup))
            return figures if ok else None

        what = (f"non-zero figures agreeing with {memory_file or 'the summed VmRSS of the cgroup'}"
                f", /proc/{pid}/status and gopls' "
                "own MemStats" + (", the heap within the cgroup's memory" if heap_inside_cgroup
                                  else ""))
        try:
            figures = s.wait_until(agreeing, 30, what)
        except AssertionError as e:
            raise AssertionError(f"{e}; the guard's figures and the others: {seen}") from None
        self.assertGreater(figures["HeapInUse"], 0)

    def test_status_and_journal_say_which_memory_limits_the_kernel_enforces_for_the_unit(self):
        root = s.copy_fixture_module("hello", "hello-limits")
        obj, unit, socket = s.add_and_wait(root)
        # systemd takes the limits on every host, whether or not the kernel can act on them.
        props = s.wait_until(
            lambda: (lambda p: p if (p["MemoryHigh"], p["MemoryMax"]) == (str(3 << 30),
                                                                          str(4 << 30)) else None)(
                s.unit_properties(unit, "MemoryHigh", "MemoryMax", "ControlGroup")),
            20, f"{unit}'s MemoryHigh= and MemoryMax= to be the configured 3G and 4G")
        # Enforced exactly where the unit's own cgroup has the file systemd writes the limit to.
        on_disk = s.unit_memory_limit_files(props["ControlGroup"])
        if not s.units_get_memory_cgroups():
            self.assertEqual(on_disk, {"memory_high": None, "memory_max": None},
                             "a normal user's unit has memory limit files on a hybrid host")
        workspace = s.wait_until(
            lambda: (lambda w: w if w["memory_max"]["value"] == 4 << 30
                     and (w["memory_max"]["enforced"] or "why" in w["memory_max"]) else None)(
                s.workspace_status(root)),
            20, "GetStatus' memory_max judged for the unit")
        # The guard warns at the workspace's first start, once it knows the unit's cgroup: no
        # reload or restart needed for the user to learn a limit does nothing.
        for control, expected in (("memory_high", 3 << 30), ("memory_max", 4 << 30)):
            status = workspace[control]
            self.assertEqual(status["value"], expected, workspace)
            self.assertEqual(status["enforced"], on_disk[control] is not None,
                             f"{control}: GetStatus says {status}, the unit's cgroup has "
                             f"{on_disk[control] or 'no file for it'}")
            if status["enforced"]:
                self.assertEqual(s.read_int(on_disk[control]), expected, on_disk[control])
                continue
            if not s.units_get_memory_cgroups() and control == "memory_max":
                self.assertIn("a normal user on a hybrid host gets none", status["why"])
            # Not enforced: the guard also says so in the journal, for this workspace.
            s.wait_until(
                lambda why=status["why"]: [
                    e for e in s.journal() if e.get("WORKSPACE") == root
                    and why in e.get("MESSAGE", "")],
                20, f"the journal's warning that {control} is not enforced for {root}")

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
