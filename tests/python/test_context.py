"""What a step sees (`Context`, `Node`, `Results`) and `run()`."""

import os
import tempfile
import time
import unittest

import harness  # noqa: F401  (puts the package on sys.path)
from lutf import CommandFailed, Context, Failed, MissingResult, Skipped, Test, run
from lutf.context import Attrs, Node, Results, attrs

IFACE_UP = {"up": True, "running": True, "loopback": False, "broadcast": True, "multicast": True}


def iface(name, addresses, up=True, loopback=False):
    flags = dict(IFACE_UP, up=up, loopback=loopback)
    return {
        "name": name,
        "mtu": 1500,
        "flags": flags,
        "ipv4": [{"address": a, "prefix": 24} for a in addresses],
        "ipv6": [],
    }


FACTS = {
    "hostname": "oss1",
    "kernel": "6.1.0",
    "lnet": {"module_loaded": True, "configured": True, "nids": ["10.0.0.1@tcp"]},
    "interfaces": [
        iface("lo", ["127.0.0.1"], loopback=True),
        iface("eth0", ["10.0.0.1", "10.0.0.11"]),
        iface("eth1", ["10.0.1.1"], up=False),
        iface("eth2", []),
        iface("eth3", ["10.0.3.1"]),
    ],
}


class TestAttrs(unittest.TestCase):
    def test_objects_read_as_attributes(self):
        a = attrs({"lnet": {"nids": ["x"]}, "list": [{"k": 1}]})
        self.assertEqual(a.lnet.nids, ["x"])
        self.assertEqual(a["lnet"]["nids"], ["x"])
        self.assertEqual(a.list[0].k, 1)
        self.assertIsInstance(a, dict)

    def test_missing_attribute_lists_what_is_there(self):
        with self.assertRaises(AttributeError) as caught:
            Attrs({"b": 1, "a": 2}).c
        self.assertIn("'c'", str(caught.exception))
        self.assertIn("a, b", str(caught.exception))


class TestNode(unittest.TestCase):
    def test_facts_and_added_attributes(self):
        node = Node("n1", "server", FACTS)
        self.assertEqual((node.name, node.role, node.hostname), ("n1", "server", "oss1"))
        self.assertEqual(node.lnet.nids, ["10.0.0.1@tcp"])
        self.assertEqual([i.name for i in node.interfaces], ["lo", "eth0", "eth1", "eth2", "eth3"])
        self.assertEqual([i.name for i in node.usable_interfaces], ["eth0", "eth3"])
        self.assertEqual(node.addresses, ["10.0.0.1", "10.0.0.11", "10.0.3.1"])
        self.assertEqual(node.address, "10.0.0.1")

    def test_unknown_fact_is_named(self):
        with self.assertRaises(AttributeError) as caught:
            Node("n1", "server", FACTS).hostnam
        message = str(caught.exception)
        self.assertIn("'hostnam'", message)
        self.assertIn("hostname", message)

    def test_no_usable_interface_fails_clearly(self):
        node = Node("n1", "server", {"interfaces": [iface("lo", ["127.0.0.1"], loopback=True)]})
        self.assertEqual(node.usable_interfaces, [])
        with self.assertRaises(Failed) as caught:
            node.address
        self.assertIn("no usable interface", str(caught.exception))
        self.assertIn("interfaces=1", str(caught.exception))


class TestResults(unittest.TestCase):
    def test_by_name_and_by_function(self):
        t = Test()

        @t.step
        def listen(ctx):
            pass

        r = Results({"listen": {"port": 1}})
        self.assertEqual(r["listen"], {"port": 1})
        self.assertEqual(r[listen], {"port": 1})
        self.assertIn(listen, r)
        self.assertEqual(r.get(listen), {"port": 1})

    def test_steps_on_several_roles_group_by_role(self):
        r = Results({"nap@node1": 1, "nap@node2": 2, "plain": 3})
        self.assertEqual(r["nap"], {"node1": 1, "node2": 2})
        self.assertEqual(r["nap@node2"], 2)
        self.assertIn("nap@node1", r)
        self.assertNotIn("nap@node3", r)
        self.assertEqual(sorted(r), ["nap", "plain"])

    def test_missing_result_says_why(self):
        r = Results({"a": 1})
        with self.assertRaises(MissingResult) as caught:
            r["b"]
        self.assertIsInstance(caught.exception, KeyError)
        message = str(caught.exception)
        self.assertIn("no result from step 'b'", message)
        self.assertIn("'a'", message)
        self.assertIn("after=", message)
        self.assertIsNone(r.get("b"))
        self.assertEqual(r.get("b", 5), 5)


class TestContext(unittest.TestCase):
    def test_from_json(self):
        ctx = Context.from_json(
            {
                "test": "samples/test_01",
                "role": "client",
                "node_name": "c1",
                "nodes": {
                    "server": {"name": "s1", "facts": FACTS},
                    "client": {"name": "c1", "facts": dict(FACTS, hostname="client1")},
                },
                "results": {"listen": 5},
                "params": {"size": "1M"},
            },
            step="connect",
        )
        self.assertEqual((ctx.test, ctx.step, ctx.role), ("samples/test_01", "connect", "client"))
        self.assertEqual(ctx.node.name, "c1")
        self.assertEqual(ctx.node.hostname, "client1")
        self.assertEqual(ctx.nodes["server"].address, "10.0.0.1")
        self.assertEqual(ctx.nodes.server.name, "s1")
        self.assertEqual(ctx.result("listen"), 5)
        self.assertEqual(ctx.params, {"size": "1M"})

    def test_skip_and_fail_raise_outcomes_that_except_exception_does_not_catch(self):
        ctx = Context()
        for call, kind, reason in ((ctx.skip, Skipped, "no widget"), (ctx.fail, Failed, "bad")):
            with self.assertRaises(kind) as caught:
                try:
                    call(reason)
                except Exception:  # a step's own handler must not swallow the verdict
                    self.fail("caught by except Exception")
            self.assertEqual(caught.exception.reason, reason)


class TestRun(unittest.TestCase):
    def test_returns_stdout_with_details(self):
        out = run(["sh", "-c", "echo out; echo err >&2; exit 0"], quiet=True)
        self.assertEqual(out, "out\n")
        self.assertEqual(out.splitlines(), ["out"])
        self.assertEqual((out.stdout, out.stderr, out.returncode, out.ok), ("out\n", "err\n", 0, True))

    def test_arguments_are_not_shell_words_and_numbers_are_fine(self):
        out = run(["printf", "%s|%s", "a b", 3], quiet=True)
        self.assertEqual(out, "a b|3")

    def test_a_string_runs_in_the_shell(self):
        self.assertEqual(run("echo one two | wc -w", quiet=True).strip(), "2")

    def test_non_zero_exit_fails_with_the_command_and_stderr(self):
        with self.assertRaises(CommandFailed) as caught:
            run(["sh", "-c", "echo first >&2; echo 'the reason' >&2; exit 3"], quiet=True)
        e = caught.exception
        self.assertIn("exited 3", e.reason)
        self.assertIn("the reason", e.reason)
        self.assertIn("sh -c", e.reason)
        self.assertEqual(e.output.returncode, 3)
        self.assertIsInstance(e, Failed)

    def test_check_false_returns_the_failure(self):
        out = run(["sh", "-c", "exit 4"], check=False, quiet=True)
        self.assertEqual((out.returncode, out.ok), (4, False))

    def test_killed_by_a_signal_is_named(self):
        with self.assertRaises(CommandFailed) as caught:
            run(["sh", "-c", "kill -9 $$"], quiet=True)
        self.assertIn("killed by SIGKILL", caught.exception.reason)

    def test_missing_program(self):
        with self.assertRaises(CommandFailed) as caught:
            run(["lutf-no-such-program"], check=False, quiet=True)
        self.assertIn("cannot run `lutf-no-such-program`", caught.exception.reason)
        self.assertIn("No such file", caught.exception.reason)

    def test_timeout_kills_even_a_pipeline(self):
        started = time.monotonic()
        with self.assertRaises(CommandFailed) as caught:
            run("sleep 30 | cat", timeout=0.3, quiet=True)
        self.assertIn("did not finish within 0.3 s", caught.exception.reason)
        # Generous bound: proves the call did not wait for `sleep 30`.
        self.assertLess(time.monotonic() - started, 20)

    def test_input_env_cwd(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = run(
                ["sh", "-c", 'cat; echo "$LUTF_X"; pwd'],
                input="fed\n",
                env={"LUTF_X": 42},
                cwd=tmp,
                quiet=True,
            )
            self.assertEqual(out.splitlines(), ["fed", "42", os.path.realpath(tmp)])
        self.assertIn("PATH", os.environ)  # env adds to the environment, it does not replace it

    def test_bad_command_types(self):
        with self.assertRaises(TypeError):
            run(None)
        with self.assertRaises(ValueError):
            run([])


if __name__ == "__main__":
    unittest.main()
