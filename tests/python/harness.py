"""Drives `python3 -m lutf.runner` the way lutf-helper and the master do, for the unit tests.

`plan()` and `step()` call the runner in a fresh process with the exact command lines of the
contract; `run_test()` is a small reference sequencer (dependencies, concurrency, background
steps stopped by SIGTERM, steps not run after a failure, cleanups last) so that whole sample
and fixture tests can run on this machine, every role on the same node.
"""

import fcntl
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PACKAGE_DIR = os.path.join(ROOT, "helper", "python")
SAMPLES = os.path.join(ROOT, "suites", "samples")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "suites")

# The tests also import the package in-process.
if PACKAGE_DIR not in sys.path:
    sys.path.insert(0, PACKAGE_DIR)

# Generous bound for any one runner call: it only proves "it did not hang".
CALL_TIMEOUT = 60


def runner_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = PACKAGE_DIR
    env.pop("PYTHONHOME", None)
    return env


def runner_argv(*args):
    return [sys.executable, "-m", "lutf.runner"] + [str(a) for a in args]


class Call:
    """One finished runner call: exit code, output, and the result document."""

    def __init__(self, returncode, stdout, stderr, result):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.result = result

    @property
    def outcome(self):
        return self.result["outcome"]


def _read_result(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def plan(test_file):
    """Runs `plan`; returns a Call whose result is {"plan": ...} or {"error": ...}."""
    with tempfile.TemporaryDirectory() as tmp:
        result = os.path.join(tmp, "result.json")
        proc = subprocess.run(
            runner_argv("plan", test_file, result),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=runner_env(),
            timeout=CALL_TIMEOUT,
        )
        return Call(proc.returncode, proc.stdout.decode(), proc.stderr.decode(), _read_result(result))


def context(test="suite/test_00", role="node1", results=None, params=None, roles=None):
    """A StepContext with every role on this machine."""
    facts = local_facts()
    roles = roles or [role]
    return {
        "test": test,
        "role": role,
        "node_name": "local",
        "nodes": {r: {"name": "local", "facts": facts} for r in roles},
        "results": results or {},
        "params": params or {},
    }


class Running:
    """A step started with `start_step`, to be waited for or stopped."""

    def __init__(self, proc, tmp, result):
        self.proc = proc
        self.tmp = tmp
        self.result = result
        self.started = time.monotonic()

        self.stopped = False

    def stop(self):
        """Sends SIGTERM, as the helper does to stop a background step."""
        if self.proc.poll() is None:
            self.stopped = True
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout=CALL_TIMEOUT):
        """Waits (killing it after `timeout`); returns a Call. `result` is None when the
        process died without writing one."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            out, err = self.proc.communicate()
            timed_out = True
        result = _read_result(self.result)
        if result is None and self.stopped and self.proc.returncode == -signal.SIGTERM:
            # Stopped so early that Python had not yet set up its SIGTERM handler: the step
            # never began. The helper must read this the same way: PASS with None.
            result = {"outcome": {"status": "PASS", "value": None}}
        self.tmp.cleanup()
        call = Call(self.proc.returncode, out.decode(), err.decode(), result)
        call.timed_out = timed_out
        return call


def start_step(test_file, step_name, ctx):
    """Starts `step` in its own process group (as the helper does) and returns a Running."""
    tmp = tempfile.TemporaryDirectory()
    ctx_file = os.path.join(tmp.name, "context.json")
    with open(ctx_file, "w", encoding="utf-8") as f:
        json.dump(ctx, f)
    result = os.path.join(tmp.name, "result.json")
    proc = subprocess.Popen(
        runner_argv("step", test_file, step_name, ctx_file, result),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=runner_env(),
        start_new_session=True,
    )
    return Running(proc, tmp, result)


def step(test_file, step_name, ctx=None, timeout=CALL_TIMEOUT):
    """Runs one step to completion; returns a Call."""
    return start_step(test_file, step_name, ctx or context()).wait(timeout)


# -- facts, the shape of protocol/src/facts.rs, enough for the samples ----------------------

SIOCGIFADDR = 0x8915
SIOCGIFNETMASK = 0x891B


def _ioctl_ipv4(name, request):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            answer = fcntl.ioctl(s.fileno(), request, struct.pack("256s", name.encode()))
        except OSError:
            return None
    return socket.inet_ntoa(answer[20:24])


def _sysfs(name, attribute):
    try:
        with open(f"/sys/class/net/{name}/{attribute}") as f:
            return f.read().strip()
    except OSError:
        return ""


_FACTS = None


def local_facts():
    """This machine's facts (primary IPv4 address per interface only)."""
    global _FACTS
    if _FACTS is not None:
        return _FACTS
    uname = os.uname()
    interfaces = []
    names = sorted(os.listdir("/sys/class/net"), key=lambda n: int(_sysfs(n, "ifindex") or 0))
    for name in names:
        flags = int(_sysfs(name, "flags") or "0", 16)
        address = _ioctl_ipv4(name, SIOCGIFADDR)
        ipv4 = []
        if address:
            mask = _ioctl_ipv4(name, SIOCGIFNETMASK) or "255.255.255.255"
            prefix = bin(struct.unpack("!I", socket.inet_aton(mask))[0]).count("1")
            ipv4.append({"address": address, "prefix": prefix})
        mtu = _sysfs(name, "mtu")
        interfaces.append(
            {
                "name": name,
                "mtu": int(mtu) if mtu else None,
                "flags": {
                    "up": bool(flags & 0x1),
                    "running": bool(flags & 0x40),
                    "loopback": bool(flags & 0x8),
                    "broadcast": bool(flags & 0x2),
                    "multicast": bool(flags & 0x1000),
                },
                "ipv4": ipv4,
                "ipv6": [],
            }
        )
    _FACTS = {
        "hostname": uname.nodename,
        "kernel": uname.release,
        "arch": uname.machine,
        "os": {"id": "", "version_id": "", "pretty_name": ""},
        "cpus": os.cpu_count() or 1,
        "memory_bytes": 0,
        "python": {"path": sys.executable, "version": sys.version.split()[0]},
        "interfaces": interfaces,
        "lnet": {"module_loaded": os.path.exists("/sys/module/lnet"), "configured": False, "nids": []},
    }
    return _FACTS


# -- a reference sequencer -----------------------------------------------------------------


class TestRun:
    """What `run_test` saw: the plan and each step's outcome (or why it did not run)."""

    def __init__(self, plan_doc):
        self.plan = plan_doc
        self.outcomes = {}  # step -> StepOutcome, or {"status": "NOT_RUN", ...}
        self.logs = {}  # step -> stdout + stderr
        self.started = {}  # step -> monotonic start
        self.ended = {}

    def status(self):
        """PASS, FAIL or SKIP for the whole test, as the master decides it."""
        statuses = [o["status"] for o in self.outcomes.values()]
        if "FAIL" in statuses or "NOT_RUN" in statuses:
            return "FAIL"
        if "SKIP" in statuses:
            return "SKIP"
        return "PASS"


def run_test(test_file, params=None, default_timeout=60):
    """Runs a whole test on this machine, every role here. Returns a TestRun.

    The semantics are the ones docs/writing-tests.md promises: a step starts once the steps
    in its `after` have ended (background ones: started); a step whose dependency did not
    pass is not run; a step with `stops` ends only once those background steps have been
    stopped and their results collected; background steps still running at the end are
    stopped; then cleanups run in declaration order, seeing the results they name.
    """
    call = plan(test_file)
    if call.returncode != 0 or call.result is None:
        raise AssertionError(f"plan failed: rc={call.returncode} stderr={call.stderr}")
    if "error" in call.result:
        raise AssertionError(f"plan error: {call.result['error']['message']}")
    test_plan = call.result["plan"]
    run = TestRun(test_plan)
    steps = {s["name"]: s for s in test_plan["steps"]}
    roles = test_plan["needs"]["roles"]
    suite = os.path.basename(os.path.dirname(test_file))
    test_name = suite + "/" + os.path.splitext(os.path.basename(test_file))[0]
    results = {}
    running = {}  # name -> Running

    def launch(s):
        ctx = context(test=test_name, role=s["role"], roles=roles, params=params)
        ctx["results"] = {d: results[d] for d in s["after"] if d in results}
        run.started[s["name"]] = time.monotonic()
        running[s["name"]] = start_step(test_file, s["name"], ctx)

    def finish(name, call):
        run.ended[name] = time.monotonic()
        run.logs[name] = call.stdout + call.stderr
        if call.result is None:
            kind = "timeout" if getattr(call, "timed_out", False) else "crash"
            run.outcomes[name] = {"status": "FAIL", "failure": {"kind": kind, "message": kind}}
        else:
            run.outcomes[name] = call.result["outcome"]
            if run.outcomes[name]["status"] == "PASS":
                results[name] = run.outcomes[name]["value"]

    def ended(name):
        """Whether `name` no longer holds its dependents back."""
        return name in run.outcomes or (steps[name]["background"] and name in running)

    def reap_one():
        """Waits until a step ends (or a foreground one times out) and records it."""
        while True:
            for name, r in list(running.items()):
                s = steps[name]
                done = r.proc.poll() is not None
                late = not s["background"] and time.monotonic() - r.started > (
                    s["timeout"] or default_timeout
                )
                if done or late:
                    del running[name]
                    finish(name, r.wait(timeout=CALL_TIMEOUT if done else 0))
                    for target in s["stops"]:
                        if target in running:
                            bg = running.pop(target)
                            bg.stop()
                            finish(target, bg.wait())
                    return
            time.sleep(0.01)

    pending = [s for s in test_plan["steps"] if not s["cleanup"]]
    while pending or any(not steps[n]["background"] for n in running):
        launched = False
        skipping = any(o["status"] == "SKIP" for o in run.outcomes.values())
        for s in list(pending):
            failed_dep = any(
                run.outcomes.get(d, {}).get("status") in ("FAIL", "NOT_RUN") for d in s["after"]
            )
            if failed_dep:
                run.outcomes[s["name"]] = {"status": "NOT_RUN", "failure": {"kind": "not_run"}}
                pending.remove(s)
            elif skipping:
                run.outcomes[s["name"]] = {"status": "SKIP", "reason": "the test was skipped"}
                pending.remove(s)
            elif all(ended(d) for d in s["after"]):
                launch(s)
                pending.remove(s)
                launched = True
        if launched:
            continue
        if not running:
            break  # cannot happen with a valid plan
        reap_one()
    # The end of the test stops what still runs in the background.
    for name, r in list(running.items()):
        r.stop()
        finish(name, r.wait())
    running.clear()
    # Cleanups: in declaration order, each seeing the results of the steps it names.
    for s in test_plan["steps"]:
        if s["cleanup"]:
            launch(s)
            finish(s["name"], running.pop(s["name"]).wait(timeout=s["timeout"] or default_timeout))
    return run
