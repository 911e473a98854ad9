"""`python3 -m lutf.runner`: the plan and step contract with lutf-helper, every outcome."""

import json
import os
import shutil
import subprocess
import tempfile
import textwrap
import time
import unittest

import harness

STEP_PLAN_KEYS = {"name", "role", "after", "timeout", "cleanup", "background", "stops", "description"}


class Files:
    """A temporary suite folder to write test files into."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="lutf-runner-test-")
        self.suite = os.path.join(self.tmp, "suite")
        os.mkdir(self.suite)

    def write(self, name, source):
        path = os.path.join(self.suite, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(source).lstrip("\n"))
        return path

    def remove(self):
        shutil.rmtree(self.tmp)


class RunnerCase(unittest.TestCase):
    def setUp(self):
        self.files = Files()
        self.addCleanup(self.files.remove)

    def write_test(self, body, header='"""A test."""\nfrom lutf import *\n'):
        return self.files.write("test_01.py", header + textwrap.dedent(body))

    def plan_error(self, path):
        call = harness.plan(path)
        self.assertEqual(call.returncode, 0, call.stderr)
        self.assertIn("error", call.result, call.result)
        error = call.result["error"]
        self.assertEqual(set(error), {"message", "traceback"})
        self.assertNotIn("\n", error["message"])
        return error

    def outcome(self, body, step="s", ctx=None):
        path = self.write_test(body)
        call = harness.step(path, step, ctx)
        self.assertEqual(call.returncode, 0, call.stderr)
        self.assertEqual(set(call.result), {"outcome"})
        return call.outcome, call


class TestPlan(RunnerCase):
    def test_plan_shape(self):
        path = self.write_test(
            """
            test = Test(roles=["server", "client"], interfaces=1)

            @test.step(role="server", timeout=30)
            def listen(ctx):
                '''Listen.'''

            @test.step(role="client", after=[listen])
            def connect(ctx):
                pass
            """,
            header='"""Two nodes talk.\n\nMore words."""\nfrom lutf import Test\n',
        )
        call = harness.plan(path)
        self.assertEqual((call.returncode, call.stdout, call.stderr), (0, "", ""))
        plan = call.result["plan"]
        self.assertEqual(plan["description"], "Two nodes talk.")
        self.assertEqual(plan["needs"], {"roles": ["server", "client"], "interfaces": 1, "lnet": False})
        self.assertEqual([s["name"] for s in plan["steps"]], ["listen", "connect"])
        for s in plan["steps"]:
            self.assertEqual(set(s), STEP_PLAN_KEYS)
        self.assertEqual(plan["steps"][0]["timeout"], 30.0)
        self.assertEqual(plan["steps"][1]["after"], ["listen"])

    def test_syntax_error(self):
        path = self.write_test("test = Test()\n\ndef broken(:\n    pass\n")
        error = self.plan_error(path)
        self.assertTrue(error["message"].startswith("suite/test_01.py:5: SyntaxError: "), error)
        self.assertIn("def broken(:", error["traceback"])
        self.assertNotIn("runner.py", error["traceback"])

    def test_import_error_names_the_line_and_keeps_the_traceback(self):
        path = self.write_test("import lutf_no_such_module\n")
        error = self.plan_error(path)
        self.assertEqual(
            error["message"],
            "suite/test_01.py:3: ModuleNotFoundError: No module named 'lutf_no_such_module'",
        )
        self.assertIn("import lutf_no_such_module", error["traceback"])
        self.assertNotIn("runner.py", error["traceback"])

    def test_declaration_error_points_at_the_declaration(self):
        path = self.write_test(
            """
            test = Test(roles=["server"])

            @test.step(role="sever")
            def s(ctx):
                pass
            """
        )
        error = self.plan_error(path)
        self.assertEqual(
            error["message"],
            "suite/test_01.py:6: step 's': unknown role 'sever' (did you mean 'server'?); "
            "this test's roles are 'server'",
        )
        self.assertIn('@test.step(role="sever")', error["traceback"])
        self.assertNotIn("lutf/test.py", error["traceback"])

    def test_validation_error_points_at_the_step(self):
        path = self.write_test(
            """
            test = Test()

            @test.step(after=["b"])
            def a(ctx):
                pass

            @test.step(after=[a])
            def b(ctx):
                pass
            """
        )
        error = self.plan_error(path)
        self.assertEqual(
            error["message"],
            "suite/test_01.py:6: steps wait for each other in a cycle: a -> b -> a "
            "(each comes after the next)",
        )

    def test_declaration_errors_in_a_helper_module_name_no_line_of_the_test(self):
        self.files.write(
            "common.py",
            "from lutf import Test\ntest = Test()\n\n@test.step(after=['nope'])\ndef s(ctx):\n    pass\n",
        )
        error = self.plan_error(self.write_test("from common import test\n"))
        self.assertTrue(error["message"].startswith("suite/test_01.py: step 's' (line 4)"), error)

    def test_file_level_mistakes(self):
        cases = {
            "declares no test": "x = 1\n",
            "one Test per file": "a = Test()\nb = Test()\n",
            "declares no steps": "test = Test()\n",
            "Skipped: no widgets": 'skip("no widgets")\n',
            "SystemExit: 3": "import sys\nsys.exit(3)\n",
        }
        for fragment, body in cases.items():
            with self.subTest(fragment):
                self.assertIn(fragment, self.plan_error(self.write_test(body))["message"])

    def test_missing_docstring(self):
        path = self.write_test(
            "test = Test()\n\n@test.step\ndef s(ctx):\n    pass\n", header="from lutf import *\n"
        )
        self.assertIn("has no docstring", self.plan_error(path)["message"])

    def test_missing_file(self):
        error = self.plan_error(os.path.join(self.files.suite, "test_99.py"))
        self.assertIn("cannot read test file", error["message"])

    def test_helper_modules_beside_the_test_import(self):
        self.files.write("common.py", "def three():\n    return 3\n")
        path = self.write_test(
            """
            from common import three

            test = Test()

            @test.step
            def s(ctx):
                return three()
            """
        )
        self.assertIn("plan", harness.plan(path).result)
        self.assertEqual(harness.step(path, "s").outcome, {"status": "PASS", "value": 3})

    def test_usage_errors_exit_2(self):
        for args in ([], ["plan"], ["step", "a", "b"], ["frobnicate", "a", "b"]):
            proc = subprocess.run(
                harness.runner_argv(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=harness.runner_env(),
            )
            self.assertEqual(proc.returncode, 2, args)
            self.assertIn(b"usage:", proc.stderr)

    def test_unwritable_result_exits_3(self):
        path = self.write_test("test = Test()\n@test.step\ndef s(ctx):\n    pass\n")
        proc = subprocess.run(
            harness.runner_argv("plan", path, "/lutf-no-such-dir/result.json"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=harness.runner_env(),
        )
        self.assertEqual(proc.returncode, 3)
        self.assertIn(b"cannot write the result file", proc.stderr)

    def serve(self, stdin, prefix=()):
        return subprocess.run(
            list(prefix) + harness.runner_argv("serve"), input=stdin, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=harness.runner_env(), timeout=harness.CALL_TIMEOUT,
        )

    def serve_line(self, step_body, **given):
        """A test whose step `s` has `step_body`, its context, and the line `serve` reads
        for it ({"argv": ..., plus `given`}); returns (test path, line, result file)."""
        path = self.write_test("import os, sys\ntest = Test()\n@test.step\ndef s(ctx):\n"
                               + step_body)
        tmp = self.files.tmp
        ctx, result = os.path.join(tmp, "ctx.json"), os.path.join(tmp, "result.json")
        with open(ctx, "w") as f:
            json.dump(harness.context(), f)
        given["argv"] = ["step", path, "s", ctx, result]
        return path, json.dumps(given) + "\n", result

    def served_outcome(self, result):
        with open(result) as f:
            return json.load(f)["outcome"]

    def test_serve_runs_the_step_it_is_given_as_step_would(self):
        cwd = os.path.join(self.files.tmp, "cwd")
        os.mkdir(cwd)
        path, line, result = self.serve_line(
            "    return [sys.stdin.read(), sys.argv[1:3], os.getcwd()]\n", cwd=cwd
        )
        proc = self.serve(line.encode() + b"more input the step must not see")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # stdin is /dev/null once the step runs, and argv is the one a cold start has.
        self.assertEqual(
            self.served_outcome(result), {"status": "PASS", "value": ["", ["step", path], cwd]}
        )

    @unittest.skipUnless(os.geteuid() == 0, "only root can take a priority back")
    def test_serve_runs_the_step_at_the_priority_it_is_given(self):
        _, line, result = self.serve_line(
            "    return os.getpriority(os.PRIO_PROCESS, 0)\n", nice=0, cwd=self.files.tmp
        )
        # Started at the lowest priority, as a spare runner waits.
        proc = self.serve(line.encode(), prefix=["nice", "-n", "19"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(self.served_outcome(result), {"status": "PASS", "value": 0})

    def test_serve_let_go_without_a_step_does_nothing(self):
        proc = self.serve(b"")
        self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, b"", b""))

    def test_serve_refuses_what_is_not_a_command_line(self):
        for line in (b"not json\n", b'["step"]\n', b'{"cwd": "/", "argv": ["step", 3]}\n',
                     b'{"cwd": "/lutf-no-such-dir", "argv": ["step"]}\n'):
            proc = self.serve(line)
            self.assertEqual(proc.returncode, 2, line)
            self.assertIn(b"lutf.runner serve:", proc.stderr)

    def test_serve_warms_every_module_of_the_package(self):
        modules = {
            name[:-3] for name in os.listdir(harness.PACKAGE_DIR + "/lutf")
            if name.endswith(".py") and name not in ("__init__.py", "runner.py")
        }
        import lutf.runner
        self.assertEqual(set(lutf.runner._WARM_MODULES), modules)


STEP = "test = Test()\n\n@test.step\ndef s(ctx):\n"


class TestStepOutcomes(RunnerCase):
    def test_pass_with_value_and_output_kept_apart(self):
        outcome, call = self.outcome(
            STEP + "    print('to the log')\n    import sys; print('err', file=sys.stderr)\n"
            "    return {'a': (1, 2), 3: None, 'u': 'h\\u00e9'}\n"
        )
        self.assertEqual(outcome, {"status": "PASS", "value": {"a": [1, 2], "3": None, "u": "h\u00e9"}})
        self.assertEqual(call.stdout, "to the log\n")
        self.assertEqual(call.stderr, "err\n")

    def test_none(self):
        self.assertEqual(self.outcome(STEP + "    pass\n")[0], {"status": "PASS", "value": None})

    def test_assertion_with_message(self):
        outcome, _ = self.outcome(STEP + "    n = 1\n    assert n == 2, f'expected 2, got {n}'\n")
        self.assertEqual(outcome["status"], "FAIL")
        self.assertEqual(outcome["failure"]["kind"], "assertion")
        self.assertEqual(outcome["failure"]["message"], "expected 2, got 1")
        self.assertIn("line 8, in s", outcome["failure"]["traceback"])

    def test_bare_assertion_quotes_the_statement(self):
        outcome, _ = self.outcome(STEP + "    n = 1\n    assert n == 2\n")
        self.assertEqual(outcome["failure"]["message"], "assertion failed: assert n == 2")

    def test_multi_line_message_is_one_line_and_traceback_keeps_all(self):
        outcome, _ = self.outcome(STEP + "    assert False, 'first\\nsecond'\n")
        self.assertEqual(outcome["failure"]["message"], "first ...")
        self.assertIn("second", outcome["failure"]["traceback"])

    def test_secrets_are_blanked_out_before_a_message_is_cut_to_one_line(self):
        # The helper redacts whole values only: a multi-line secret's first line, left by
        # the cut to one line, must not survive (nor a piece cut off by the length bound).
        ctx = harness.context()
        ctx["secrets"] = {"TOKEN": "tok-first-line\nsecond-line", "LONG": "L" * 2000}
        outcome, _ = self.outcome(
            STEP + "    raise ValueError('bad ' + ctx.secrets['TOKEN'] + ' and ' + ctx.secrets['LONG'])\n",
            ctx=ctx,
        )
        failure = outcome["failure"]
        self.assertTrue(
            failure["message"].startswith("ValueError: bad [secret TOKEN] and [secret LONG]"), failure
        )
        for text in (failure["message"], failure["traceback"]):
            self.assertNotIn("tok-first-line", text)
            self.assertNotIn("L" * 100, text)
        ctx["secrets"] = {"TOKEN": "a\nb-secret"}
        outcome, _ = self.outcome(STEP + "    ctx.skip('skip ' + ctx.secrets['TOKEN'])\n", ctx=ctx)
        self.assertEqual(outcome, {"status": "SKIP", "reason": "skip [secret TOKEN]"})

    def test_fail(self):
        outcome, _ = self.outcome(STEP + "    try:\n        ctx.fail('no peers')\n    except Exception:\n        pass\n")
        self.assertEqual(outcome["failure"]["kind"], "assertion")
        self.assertEqual(outcome["failure"]["message"], "no peers")
        self.assertNotIn("lutf/errors.py", outcome["failure"]["traceback"])

    def test_failed_command(self):
        outcome, call = self.outcome(STEP + "    ctx.run(['sh', '-c', 'echo nope >&2; exit 2'])\n")
        self.assertEqual(outcome["failure"]["kind"], "assertion")
        self.assertEqual(outcome["failure"]["message"], "`sh -c 'echo nope >&2; exit 2'` exited 2: nope")
        self.assertIn("$ sh -c", call.stdout)
        self.assertIn("nope", call.stderr)

    def test_exception(self):
        outcome, _ = self.outcome(STEP + "    helper()\n\ndef helper():\n    raise ValueError('bad value')\n")
        failure = outcome["failure"]
        self.assertEqual(failure["kind"], "exception")
        self.assertEqual(failure["message"], "ValueError: bad value (suite/test_01.py:10)")
        self.assertIn("in helper", failure["traceback"])
        self.assertIn("ValueError: bad value", failure["traceback"])
        self.assertNotIn("runner.py", failure["traceback"])

    def test_exception_without_text(self):
        outcome, _ = self.outcome(STEP + "    raise KeyError\n")
        self.assertEqual(outcome["failure"]["message"], "KeyError (suite/test_01.py:7)")

    def test_missing_result_is_an_exception_that_says_why(self):
        outcome, _ = self.outcome(STEP + "    return ctx.result('other')\n")
        self.assertEqual(outcome["failure"]["kind"], "exception")
        self.assertIn("MissingResult: no result from step 'other'", outcome["failure"]["message"])

    def test_sys_exit(self):
        outcome, _ = self.outcome(STEP + "    import sys; sys.exit(1)\n")
        self.assertEqual(outcome["failure"]["kind"], "exception")
        self.assertIn("sys.exit(1)", outcome["failure"]["message"])

    def test_skip(self):
        outcome, _ = self.outcome(STEP + "    ctx.skip('needs a widget')\n")
        self.assertEqual(outcome, {"status": "SKIP", "reason": "needs a widget"})

    def test_not_serializable(self):
        cases = {
            "return {'a': [1, {2, 3}]}": "a set at value['a'][1]",
            "return object()": "an object at value",
            "return float('nan')": "the float nan at value",
            "return {(1, 2): 3}": "a tuple key (1, 2)",
            "x = []; x.append(x); return x": "a cycle",
            "return b'bytes'": "a bytes at value",
        }
        for body, fragment in cases.items():
            with self.subTest(body):
                outcome, _ = self.outcome(STEP + "    " + body + "\n")
                self.assertEqual(outcome["status"], "FAIL")
                self.assertEqual(outcome["failure"]["kind"], "not_serializable")
                self.assertIn(fragment, outcome["failure"]["message"])
                self.assertIn("JSON cannot carry", outcome["failure"]["message"])

    def test_too_large_a_value(self):
        outcome, _ = self.outcome(STEP + "    return 'x' * (9 * 1024 * 1024)\n")
        self.assertEqual(outcome["failure"]["kind"], "not_serializable")
        self.assertIn("9.0 MiB of JSON, more than the 8 MiB", outcome["failure"]["message"])

    def test_too_many_items_in_a_value(self):
        # The list and its entries: 50,000 items pass, one more fails; a dict's keys count.
        fine, _ = self.outcome(STEP + "    return [0] * 49999\n")
        self.assertEqual(fine["status"], "PASS")
        self.assertEqual(len(fine["value"]), 49999)
        for body in ["return [0] * 50000", "return {str(i): 0 for i in range(25000)}",
                     "return [[0] * 1000 for _ in range(50)]"]:
            with self.subTest(body):
                outcome, _ = self.outcome(STEP + "    " + body + "\n")
                self.assertEqual(outcome["failure"]["kind"], "not_serializable")
                self.assertIn("more than 50000 items", outcome["failure"]["message"])

    def test_context_reaches_the_step(self):
        ctx = harness.context(test="suite/test_01", role="client", roles=["server", "client"],
                              results={"listen": {"port": 5}}, params={"size": 3})
        outcome, _ = self.outcome(
            "test = Test(roles=['server', 'client'])\n"
            "@test.step(role='server')\ndef listen(ctx):\n    pass\n"
            "@test.step(role='client', after=[listen])\ndef s(ctx):\n"
            "    return [ctx.test, ctx.step, ctx.role, ctx.node.role, ctx.results[listen]['port'],\n"
            "            ctx.params['size'], ctx.nodes.server.hostname == ctx.node.hostname]\n",
            ctx=ctx,
        )
        self.assertEqual(outcome["value"], ["suite/test_01", "s", "client", "client", 5, 3, True])

    def test_a_step_on_several_roles_runs_by_its_role_name(self):
        path = self.write_test(
            """
            test = Test(nodes=2)

            @test.step(role=test.roles)
            def s(ctx):
                return ctx.role
            """
        )
        ctx = harness.context(role="node2", roles=["node1", "node2"])
        self.assertEqual(harness.step(path, "s@node2", ctx).outcome, {"status": "PASS", "value": "node2"})
        outcome = harness.step(path, "s", ctx).outcome
        self.assertEqual(outcome["failure"]["kind"], "test_file")
        self.assertIn("no step 's' (steps: s@node1, s@node2)", outcome["failure"]["message"])

    def test_broken_test_file_at_step_time(self):
        outcome, _ = self.outcome("import lutf_no_such_module\n")
        self.assertEqual(outcome["failure"]["kind"], "test_file")
        self.assertIn("No module named 'lutf_no_such_module'", outcome["failure"]["message"])
        self.assertIn("traceback", outcome["failure"])

    def test_bad_context_file(self):
        path = self.write_test(STEP + "    pass\n")
        with tempfile.TemporaryDirectory() as tmp:
            ctx_file = os.path.join(tmp, "ctx.json")
            result = os.path.join(tmp, "result.json")
            with open(ctx_file, "w") as f:
                f.write("[not json")
            proc = subprocess.run(harness.runner_argv("step", path, "s", ctx_file, result),
                                  env=harness.runner_env())
            self.assertEqual(proc.returncode, 0)
            with open(result) as f:
                outcome = json.load(f)["outcome"]
        self.assertEqual(outcome["failure"]["kind"], "exception")
        self.assertIn("cannot read the step context", outcome["failure"]["message"])

    def test_non_ascii_output_under_the_c_locale(self):
        path = self.write_test(STEP + "    print('caf\\u00e9 \\u2713')\n    return 'ok'\n")
        ctx = harness.context()
        with tempfile.TemporaryDirectory() as tmp:
            ctx_file = os.path.join(tmp, "ctx.json")
            result = os.path.join(tmp, "result.json")
            with open(ctx_file, "w") as f:
                json.dump(ctx, f)
            env = dict(harness.runner_env(), LC_ALL="C", LANG="C")
            env.pop("PYTHONIOENCODING", None)
            env["PYTHONCOERCECLOCALE"] = "0"
            env["PYTHONUTF8"] = "0"
            proc = subprocess.run(harness.runner_argv("step", path, "s", ctx_file, result),
                                  stdout=subprocess.PIPE, env=env)
            with open(result) as f:
                outcome = json.load(f)["outcome"]
        self.assertEqual(outcome, {"status": "PASS", "value": "ok"})
        self.assertEqual(proc.stdout.decode("utf-8"), "caf\u00e9 \u2713\n")

    def test_threads_left_behind_do_not_hold_the_runner(self):
        started = time.monotonic()
        outcome, _ = self.outcome(
            STEP + "    import threading, time\n"
            "    threading.Thread(target=time.sleep, args=(60,)).start()\n    return 1\n"
        )
        self.assertEqual(outcome, {"status": "PASS", "value": 1})
        self.assertLess(time.monotonic() - started, 30)  # generous: it did not wait 60 s


class TestStop(RunnerCase):
    """SIGTERM, how the helper stops a background step, raises Stopped inside it."""

    def start(self, body):
        path = self.write_test(body)
        running = harness.start_step(path, "s", harness.context())
        # Wait for the step to say it is running, so that the stop lands inside it.
        line = running.proc.stdout.readline()
        self.assertEqual(line, b"running\n")
        return running

    def test_caught_stop_returns_the_value(self):
        running = self.start(
            STEP + "    import time\n    n = 0\n"
            "    try:\n        while True:\n            n += 1\n"
            "            if n == 1:\n                print('running', flush=True)\n"
            "            time.sleep(0.01)\n"
            "    except Stopped:\n        return {'rounds': n}\n"
        )
        running.stop()
        call = running.wait()
        self.assertEqual(call.returncode, 0, call.stderr)
        self.assertEqual(call.outcome["status"], "PASS")
        self.assertGreater(call.outcome["value"]["rounds"], 0)

    def test_uncaught_stop_is_pass_with_none(self):
        running = self.start(STEP + "    import time\n    print('running', flush=True)\n    time.sleep(60)\n")
        running.stop()
        call = running.wait()
        self.assertEqual(call.outcome, {"status": "PASS", "value": None})

    def test_except_exception_does_not_swallow_the_stop(self):
        running = self.start(
            STEP + "    import time\n"
            "    try:\n        print('running', flush=True)\n        time.sleep(60)\n"
            "    except Exception:\n        return 'swallowed'\n"
        )
        running.stop()
        self.assertEqual(running.wait().outcome, {"status": "PASS", "value": None})

    def test_stop_kills_the_command_the_step_runs(self):
        running = self.start(
            STEP + "    try:\n        print('running', flush=True)\n"
            "        ctx.run(['sleep', '60'])\n    except Stopped:\n        return 'stopped'\n"
        )
        deadline = time.monotonic() + 30  # generous: only waits for `sleep` to start
        sleepers = []
        while not sleepers:
            self.assertLess(time.monotonic(), deadline, "the step's command never started")
            time.sleep(0.01)
            sleepers = _children_named(running.proc.pid, "sleep")
        running.stop()
        call = running.wait()
        self.assertEqual(call.outcome, {"status": "PASS", "value": "stopped"})
        self.assertFalse(_alive(sleepers[0]), "the command outlived its stopped step")

    def test_stop_before_the_step_begins(self):
        # A slow import: the stop arrives while the file is being imported.
        path = self.write_test("import time\nprint('running', flush=True)\ntime.sleep(60)\n" + STEP + "    return 1\n")
        running = harness.start_step(path, "s", harness.context())
        self.assertEqual(running.proc.stdout.readline(), b"running\n")
        running.stop()
        self.assertEqual(running.wait().outcome, {"status": "PASS", "value": None})


def _children_named(pid, name):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            comm = stat[stat.find("(") + 1: stat.rfind(")")]
            ppid = int(stat[stat.rfind(")") + 2:].split()[1])
            if ppid == pid and comm == name:
                found.append(int(entry))
    return found


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


if __name__ == "__main__":
    unittest.main()
