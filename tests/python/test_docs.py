"""docs/writing-tests.md: its complete example is a working test."""

import os
import re
import shutil
import tempfile
import unittest

import harness

DOC = os.path.join(harness.ROOT, "docs", "writing-tests.md")


class TestDocs(unittest.TestCase):
    def test_the_complete_example_runs(self):
        with open(DOC, encoding="utf-8") as f:
            blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
        self.assertTrue(blocks, "no python example in the docs")
        tmp = tempfile.mkdtemp(prefix="lutf-docs-")
        self.addCleanup(shutil.rmtree, tmp)
        os.mkdir(os.path.join(tmp, "example"))
        path = os.path.join(tmp, "example", "test_01.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(blocks[0])
        plan = harness.plan(path).result["plan"]
        self.assertEqual(plan["needs"]["roles"], ["server", "client"])
        run = harness.run_test(path)
        if shutil.which("ping") is None:
            self.assertEqual(run.status(), "SKIP", run.outcomes)
            self.assertIn("ping is not installed", run.outcomes["ping"]["reason"])
            self.assertEqual(run.outcomes["tidy@server"]["status"], "PASS")
        else:
            self.assertEqual(run.status(), "PASS", run.outcomes)
            self.assertGreater(run.outcomes["report"]["value"], 0)


if __name__ == "__main__":
    unittest.main()
