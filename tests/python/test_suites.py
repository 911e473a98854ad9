"""The samples suite and the fixture suites, run whole on this machine (every role here)
through `harness.run_test`, the reference sequencer: each yields what its docstring says."""

import glob
import os
import re
import unittest
from concurrent.futures import ThreadPoolExecutor

import harness


def fixture(name):
    return os.path.join(harness.FIXTURES, name + ".py")


def failure(run, step):
    outcome = run.outcomes[step]
    return outcome["status"], outcome.get("failure", {}).get("kind"), outcome.get("failure", {}).get("message")


class TestSamples(unittest.TestCase):
    def test_there_are_samples_with_short_ids_and_descriptions(self):
        files = sorted(glob.glob(os.path.join(harness.SAMPLES, "*.py")))
        self.assertGreaterEqual(len(files), 6)
        for path in files:
            with self.subTest(os.path.basename(path)):
                self.assertRegex(os.path.basename(path), r"^test_[0-9]{2}[a-z]?\.py$")
                plan = harness.plan(path).result["plan"]
                self.assertTrue(plan["description"].endswith("."), plan["description"])

    def test_every_sample_passes_here(self):
        lnet_loaded = os.path.exists("/sys/module/lnet")
        paths = []
        for path in sorted(glob.glob(os.path.join(harness.SAMPLES, "test_*.py"))):
            if harness.plan(path).result["plan"]["needs"]["lnet"] and not lnet_loaded:
                continue  # the master SKIPs it here: LNet is not loaded
            paths.append(path)
        # Concurrently: the samples mostly sleep.
        with ThreadPoolExecutor(max_workers=len(paths)) as pool:
            runs = dict(zip(paths, pool.map(harness.run_test, paths)))
        for path, run in runs.items():
            with self.subTest(os.path.basename(path)):
                if run.plan["needs"]["lnet"] and run.status() == "SKIP":
                    continue  # loaded but not configured: the sample skips itself
                self.assertEqual(run.status(), "PASS", run.outcomes)

        parallel = runs[os.path.join(harness.SAMPLES, "test_03.py")]
        self.assertGreater(parallel.outcomes["overlapped"]["value"]["overlap_seconds"], 0)
        background = runs[os.path.join(harness.SAMPLES, "test_06.py")]
        self.assertGreater(background.outcomes["writer"]["value"]["lines"], 0)
        self.assertEqual(background.outcomes["count"]["value"], background.outcomes["writer"]["value"])


class TestFixtures(unittest.TestCase):
    runs = {}

    @classmethod
    def setUpClass(cls):
        """Runs every fixture test that has a plan once, all at once (they mostly sleep)."""
        names = [
            "broken/test_01", "broken/test_03", "broken/test_04", "failures/test_02",
            "failures/test_03", "failures/test_04", "failures/test_06", "failures/test_07",
            "deps/test_01", "deps/test_02", "deps/test_03", "features/test_01", "features/test_02",
        ]

        def run(name):
            if name == "features/test_01":
                return harness.run_test(fixture(name), params={"who": "me"})
            if name == "broken/test_03":
                return harness.run_test(fixture(name), default_timeout=600)  # its own timeout=1
            return harness.run_test(fixture(name))

        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            cls.runs = dict(zip(names, pool.map(run, names)))

    def test_broken_suite(self):
        run = self.runs["broken/test_01"]
        self.assertEqual(failure(run, "count_widgets"), ("FAIL", "assertion", "expected 2 widgets, found 1"))

        error = harness.plan(fixture("broken/test_02")).result["error"]
        self.assertRegex(error["message"], r"^broken/test_02\.py:12: SyntaxError: ")

        run = self.runs["broken/test_03"]
        self.assertEqual(failure(run, "hang")[:2], ("FAIL", "timeout"))  # its own timeout=1
        self.assertIn("LUTF-FIXTURE-HANG-STARTED", run.logs["hang"])

        run = self.runs["broken/test_04"]
        self.assertEqual(run.status(), "SKIP")
        self.assertEqual(run.outcomes["nothing_to_do"]["reason"], "this fixture always skips")

    def test_failures_suite(self):
        error = harness.plan(fixture("failures/test_01")).result["error"]
        self.assertEqual(
            error["message"],
            "failures/test_01.py:7: ModuleNotFoundError: No module named 'lutf_no_such_module'",
        )
        run = self.runs["failures/test_02"]
        status, kind, message = failure(run, "parse")
        self.assertEqual((status, kind), ("FAIL", "exception"))
        self.assertEqual(
            message,
            "ValueError: invalid literal for int() with base 10: 'twelve' (failures/test_02.py:12)",
        )
        self.assertIn("in parse_count", run.outcomes["parse"]["failure"]["traceback"])

        run = self.runs["failures/test_03"]
        status, kind, message = failure(run, "peers")
        self.assertEqual((status, kind), ("FAIL", "not_serializable"))
        self.assertIn("a set at value['peers']", message)

        run = self.runs["failures/test_04"]
        self.assertEqual(failure(run, "break_things"), ("FAIL", "assertion", "broken on purpose"))
        self.assertEqual(run.outcomes["tidy_up"], {"status": "PASS", "value": "tidied"})
        self.assertIn("LUTF-FIXTURE-CLEANUP-RAN", run.logs["tidy_up"])

        error = harness.plan(fixture("failures/test_05")).result["error"]
        self.assertEqual(
            error["message"],
            "failures/test_05.py:11: step 'connect': unknown role 'clinet' (did you mean "
            "'client'?); this test's roles are 'server', 'client'",
        )

        run = self.runs["failures/test_06"]
        status, kind, message = failure(run, "list_missing")
        self.assertEqual((status, kind), ("FAIL", "assertion"))
        self.assertTrue(message.startswith("`ls /lutf-no-such-path` exited 2: "), message)

        run = self.runs["failures/test_07"]
        self.assertEqual(failure(run, "die")[:2], ("FAIL", "crash"))
        self.assertIn("LUTF-FIXTURE-ABOUT-TO-DIE", run.logs["die"])

    def test_deps_suite(self):
        run = self.runs["deps/test_01"]
        self.assertEqual(run.status(), "FAIL")
        self.assertEqual(failure(run, "first"), ("FAIL", "assertion", "first fails on purpose"))
        self.assertEqual(run.outcomes["second"]["status"], "NOT_RUN")
        self.assertEqual(run.outcomes["third"]["status"], "NOT_RUN")
        self.assertEqual(run.outcomes["independent"], {"status": "PASS", "value": "ran"})
        self.assertIn("LUTF-FIXTURE-CLEANUP-RAN", run.logs["cleanup"])
        self.assertNotIn("second", run.logs)

        run = self.runs["deps/test_02"]
        self.assertEqual(run.status(), "PASS", run.outcomes)
        self.assertGreater(run.outcomes["together"]["value"]["overlap_seconds"], 0)

        run = self.runs["deps/test_03"]
        self.assertEqual(run.status(), "PASS", run.outcomes)
        self.assertGreater(run.outcomes["report"]["value"]["ticks"], 0)

    def test_needs_and_features_plans(self):
        needs = {
            "needs/test_01": {"roles": ["node1", "node2"], "interfaces": 0, "lnet": False},
            "needs/test_02": {"roles": ["node1"], "interfaces": 64, "lnet": False},
            "needs/test_03": {"roles": ["node1"], "interfaces": 0, "lnet": True},
            "features/test_02": {"roles": ["node1", "node2"], "interfaces": 0, "lnet": False},
        }
        for name, expected in needs.items():
            with self.subTest(name):
                self.assertEqual(harness.plan(fixture(name)).result["plan"]["needs"], expected)
        run = self.runs["features/test_01"]
        self.assertEqual(
            run.outcomes["use_helper"],
            {"status": "PASS", "value": {"shout": "HELLO!", "params": {"who": "me"}}},
        )
        run = self.runs["features/test_02"]
        self.assertEqual(sorted(run.outcomes), ["collect", "name@node1", "name@node2"])
        self.assertEqual(run.status(), "PASS", run.outcomes)

    def test_every_fixture_says_what_it_expects(self):
        for path in sorted(glob.glob(os.path.join(harness.FIXTURES, "*", "test_*.py"))):
            with open(path, encoding="utf-8") as f:
                self.assertTrue(re.search(r"^Expected", f.read(), re.M), path)


if __name__ == "__main__":
    unittest.main()
