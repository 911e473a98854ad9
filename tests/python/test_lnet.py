"""lutf.lnet against a stand-in helper: the requests it sends and how it reads replies.

The stand-in is a shell script that records its arguments and the request it reads, and
prints the reply in $FAKE_REPLY. (The real helper is driven by tests/lnet.rs.)
"""

import json
import os
import shutil
import tempfile
import unittest

import harness  # noqa: F401  (puts the package on sys.path)

from lutf import Skipped, lnet

FAKE_HELPER = """#!/bin/sh
echo "$@" > "$FAKE_DIR/argv"
cat > "$FAKE_DIR/request"
printf '%s\\n' "$FAKE_REPLY"
echo "a note on stderr" >&2
exit "${FAKE_EXIT:-0}"
"""


class FakeHelper(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="lutf-lnet-")
        self.addCleanup(shutil.rmtree, self.dir)
        helper = os.path.join(self.dir, "lutf-helper")
        with open(helper, "w") as f:
            f.write(FAKE_HELPER)
        os.chmod(helper, 0o755)
        saved = {k: os.environ.get(k) for k in ("LUTF_HELPER", "LUTF_WORKDIR", "FAKE_DIR",
                                                 "FAKE_REPLY", "FAKE_EXIT")}
        self.addCleanup(self.restore, saved)
        os.environ.update(LUTF_HELPER=helper, LUTF_WORKDIR="/tmp/w", FAKE_DIR=self.dir)
        os.environ.pop("FAKE_EXIT", None)

    @staticmethod
    def restore(saved):
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def reply(self, ok=None, error=None, exit=0):
        doc = {"version": 1}
        if error is not None:
            doc["error"] = error
        else:
            doc["ok"] = ok
        os.environ["FAKE_REPLY"] = json.dumps(doc)
        os.environ["FAKE_EXIT"] = str(exit)

    def request(self):
        with open(os.path.join(self.dir, "request")) as f:
            return json.load(f)

    def argv(self):
        with open(os.path.join(self.dir, "argv")) as f:
            return f.read().split()

    def test_a_call_sends_its_arguments_and_returns_the_result(self):
        self.reply({"abi": "2.17+", "result": {"net": [{"net type": "lo"}]}})
        self.assertEqual(lnet.show_net(net="tcp1", detail=2), {"net": [{"net type": "lo"}]})
        self.assertEqual(
            self.request(),
            {"version": 1, "op": "lnet", "args": {"call": "show_net", "net": "tcp1", "detail": 2}},
        )
        self.assertEqual(self.argv(), ["--json", "--workdir", "/tmp/w"])
        lnet.add_ni("tcp", ["eth0"], tunables={"peer_credits": 8})
        self.assertEqual(
            self.request()["args"],
            {"call": "add_ni", "net": "tcp", "interfaces": ["eth0"], "tunables": {"peer_credits": 8}},
        )
        lnet.set_discovery(False)
        self.assertEqual(
            self.request()["args"], {"call": "set_global", "setting": "discovery", "value": 0}
        )
        whole = lnet.call("show_stats", abi="2.16")
        self.assertEqual(whole["abi"], "2.17+")
        self.assertEqual(self.request()["args"], {"call": "show_stats", "abi": "2.16"})

    def test_a_failure_is_an_lnet_error_with_errno_and_description(self):
        self.reply(exit=3, error={
            "kind": "lnet",
            "message": "add_ni failed on n1: cannot add LNet NI (errno -17: File exists)",
            "lnet": {"errno": -17, "description": "cannot add LNet NI", "op": "add_ni",
                     "command": "add", "entity": "net", "rc": -17, "tree": {"add": []}},
        })
        with self.assertRaises(lnet.LnetError) as caught:
            lnet.add_ni("tcp", ["eth0"])
        e = caught.exception
        self.assertEqual((e.kind, e.errno, e.description), ("lnet", -17, "cannot add LNet NI"))
        self.assertEqual((e.command, e.entity, e.rc, e.tree), ("add", "net", -17, {"add": []}))
        self.assertIn("File exists", str(e))

    def test_require_skips_where_lnet_is_absent_and_raises_otherwise(self):
        for kind in lnet.ABSENT:
            self.reply(exit=3, error={"kind": kind, "message": f"{kind} on n1"})
            with self.assertRaises(Skipped) as caught:
                lnet.require()
            self.assertEqual(caught.exception.reason, f"{kind} on n1")
        self.reply(exit=3, error={"kind": "lnet", "message": "show_net failed",
                                  "lnet": {"errno": -5, "description": "io", "op": "show_net"}})
        with self.assertRaises(lnet.LnetError) as caught:
            lnet.require()
        self.assertEqual(caught.exception.errno, -5)

    def test_no_reply_is_an_internal_error_keeping_stderr(self):
        os.environ["FAKE_REPLY"] = "this is not json"
        with self.assertRaises(lnet.LnetError) as caught:
            lnet.show_stats()
        self.assertEqual(caught.exception.kind, "internal")
        self.assertIn("a note on stderr", caught.exception.detail)

    def test_outside_a_step_there_is_no_helper_to_ask(self):
        del os.environ["LUTF_HELPER"]
        with self.assertRaises(lnet.LnetError) as caught:
            lnet.show_net()
        self.assertEqual(caught.exception.kind, "unavailable")

    def test_lnetctl_passes_its_arguments_as_strings(self):
        self.reply({"command": ["lnetctl", "set", "retry_count", "2"], "exit_code": 0,
                    "output": {}, "errors": [], "diagnostics": [], "text": ""})
        self.assertEqual(lnet.lnetctl("set", "retry_count", 2)["exit_code"], 0)
        self.assertEqual(self.request()["args"], {"argv": ["set", "retry_count", "2"], "check": True})

    def test_a_selftest_session_uses_its_key_and_ends_with_the_block(self):
        self.reply({"command": [], "session": 77, "text": "", "result": {"name": "s"}})
        with lnet.Selftest("s", timeout=100) as lst:
            self.assertEqual(self.request()["args"],
                             {"action": "new_session", "name": "s", "session_timeout": 100,
                              "force": False})
            lst.add_test("b", "clients", "servers", "brw", mode="write", size="1M")
            self.assertEqual(self.request()["args"], {
                "action": "add_test", "batch": "b", "from": "clients", "to": "servers",
                "test": "brw", "mode": "write", "size": "1M", "session": 77})
        self.assertEqual(self.request()["args"], {"action": "end_session", "session": 77})
        self.assertIsNone(lst.session)


if __name__ == "__main__":
    unittest.main()
