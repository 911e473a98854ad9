"""The runner `lutf-helper` starts, one process per call. Its contract with the helper:

    python3 -m lutf.runner plan <test-file> <result-file>
        writes {"plan": TestPlan}, or {"error": {"message": one line, "traceback": text}}
        when the file does not import or declares an invalid test.
    python3 -m lutf.runner step <test-file> <step> <context-file> <result-file>
        reads a StepContext (JSON) from <context-file>, runs the step, writes
        {"outcome": StepOutcome}: PASS with its value, FAIL with {kind, message, traceback}
        (kind assertion, exception, not_serializable or test_file), or SKIP with its reason.

    python3 -m lutf.runner serve
        imports what steps import, then reads from stdin where to work and one command
        line of the two above, one JSON object: {"cwd": folder, "argv": ["step",
        test-file, step, context-file, result-file], "nice": priority or null}, and runs
        it there (at that priority, when given: it waited at a lower one) with stdin then
        at /dev/null. The helper starts a runner this way ahead of the
        step it will run, so that a step does not wait for Python to start and import.

It exits 0 once the result file is written, 2 on a usage error, 3 when it cannot write the
result. The step's own stdout and stderr are its log; results travel only through the
result file. SIGTERM raises `Stopped` inside the step: a stopped step is PASS with whatever it
returned (None when `Stopped` propagated). SIGUSR2 (sent when the step's timeout expires,
before SIGTERM) writes every thread's stack into `stack.txt` beside the result file. The
shapes are those of `protocol/src/test.rs`.
"""

import faulthandler
import io
import json
import math
import os
import signal
import sys
import types

from .context import Context
from .errors import DeclarationError, Failed, Skipped, Stopped, stop_requested
from .test import Test

# The largest return value a step may have, as JSON. Bigger data belongs in a file.
MAX_VALUE_BYTES = 8 * 1024 * 1024

# The most items (values, list entries, dict keys and values) a return value may hold. The
# value travels as YAML in the step's reply and in the requests of the steps after it, and
# YAML costs memory per item to parse: the helper refuses requests of more than 100,000
# items (lutf-protocol's MAX_REQUEST_ITEMS), so a step can take two such values and its
# context.
MAX_VALUE_ITEMS = 50000

# Failure messages are one line for the results table; the traceback keeps everything.
MAX_MESSAGE_CHARS = 1000

# A traceback longer than this (an exception carrying megabytes in its message) keeps its
# start and its end: the result file must stay far below the helper's bound on it.
MAX_TRACEBACK_CHARS = 64 * 1024

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

# The helper's signal for "your timeout expired: say where you are" (lutf-helper's
# step::DUMP_SIGNAL), and the file the stacks go into, beside the result file.
DUMP_SIGNAL = signal.SIGUSR2
STACK_FILE = "stack.txt"

# The open stack file (faulthandler writes to its descriptor from the signal handler).
_STACK = []

USAGE = """usage:
  python3 -m lutf.runner plan <test-file> <result-file>
  python3 -m lutf.runner step <test-file> <step> <context-file> <result-file>
  python3 -m lutf.runner serve   (then {"cwd": ..., "argv": [one of the above]} on stdin)"""


# The running step's secrets as (value, placeholder), longest first. Failure texts are
# redacted here before they are cut to one line or bounded: the helper replaces whole
# values only, and a cut (a multi-line secret's first line, say) would leave part of one.
_SECRETS = []


def set_secrets(secrets):
    """Makes `secrets` (name -> str or bytes) blanked out of failure texts."""
    pairs = []
    for name, value in (secrets or {}).items():
        if isinstance(value, bytes):
            value = value.decode("utf-8", "surrogateescape")
        if value:
            pairs.append((value, f"[secret {name}]"))
    pairs.sort(key=lambda p: (-len(p[0]), p[0]))
    _SECRETS[:] = pairs


def redact(text):
    """`text` with every secret of the running step replaced by `[secret NAME]`."""
    for value, placeholder in _SECRETS:
        text = text.replace(value, placeholder)
    return text


class LoadError(Exception):
    """A test file that cannot be used: it does not import or declares an invalid test."""

    def __init__(self, message, traceback_text):
        super().__init__(message)
        self.message = message
        self.traceback = traceback_text


# -- loading a test file -------------------------------------------------------------------


def _shown_path(path):
    """`suite/test_01.py`: how messages name a test file."""
    parent = os.path.basename(os.path.dirname(path))
    return os.path.join(parent, os.path.basename(path)) if parent else os.path.basename(path)


def _is_internal(filename):
    return os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep)


def _format_traceback(exc, drop_inner=False):
    """The traceback without the runner's own frames (and, for `lutf`'s own exceptions,
    without the library frames they were raised from), so it starts at the test's code."""
    import traceback  # here and below: only a failing step pays for the import

    te = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    frames = list(te.stack)
    while frames and _is_internal(frames[0].filename):
        frames.pop(0)
    if drop_inner:
        while frames and _is_internal(frames[-1].filename):
            frames.pop()
    te.stack = traceback.StackSummary.from_list(frames)
    return _bounded(redact("".join(te.format())), MAX_TRACEBACK_CHARS)


def _bounded(text, limit):
    """`text`, or its first quarter and last three quarters of `limit` with a marker."""
    if len(text) <= limit:
        return text
    head = limit // 4
    tail = limit - head
    dropped = len(text) - head - tail
    return f"{text[:head]}\n[lutf: {dropped} characters dropped]\n{text[-tail:]}"


def _line_in(exc, path):
    """The line of `path` the exception comes from (its last frame in that file)."""
    if isinstance(exc, DeclarationError) and exc.line:
        same_file = exc.file is None or os.path.abspath(exc.file) == path
        return exc.line if same_file else None
    if isinstance(exc, SyntaxError) and exc.filename and os.path.abspath(exc.filename) == path:
        return exc.lineno
    import traceback

    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) == path:
            line = frame.lineno
    return line


def _one_line(text):
    lines = [line.strip() for line in redact(str(text)).strip().splitlines() if line.strip()]
    if not lines:
        return ""
    line = lines[0] + (" ..." if len(lines) > 1 else "")
    if len(line) > MAX_MESSAGE_CHARS:
        line = line[: MAX_MESSAGE_CHARS - 3] + "..."
    return line


def _load_error(exc, path):
    line = _line_in(exc, path)
    where = _shown_path(path) + (f":{line}" if line else "")
    if isinstance(exc, DeclarationError):
        what = exc.message
    elif isinstance(exc, SyntaxError):
        what = f"{type(exc).__name__}: {exc.msg}"
    else:
        what = f"{type(exc).__name__}: {exc}"
    return LoadError(
        _one_line(f"{where}: {what}"),
        _format_traceback(exc, drop_inner=isinstance(exc, DeclarationError)),
    )


def load(path):
    """Imports the test file at `path` (absolute) and returns (description, Test), validated.

    Raises `LoadError` with a one-line message and the traceback when it cannot.
    """
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    # The suite's own helper modules sit beside its tests.
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = os.path.splitext(os.path.basename(path))[0]
    module = types.ModuleType(name)
    module.__file__ = path
    sys.modules[name] = module
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        raise LoadError(f"cannot read test file {path}: {e.strerror or e}", "") from None
    try:
        code = compile(source, path, "exec", dont_inherit=True)
        exec(code, module.__dict__)
    except Stopped:
        raise  # SIGTERM while importing, before the step began
    except BaseException as e:  # SyntaxError, ImportError, SystemExit, skip(), anything
        raise _load_error(e, path) from None
    tests = [(k, v) for k, v in vars(module).items() if isinstance(v, Test)]
    shown = _shown_path(path)
    if not tests:
        raise LoadError(
            f"{shown}: declares no test: add `test = Test(...)` and decorate steps with "
            "@test.step",
            "",
        )
    if len({id(v) for _, v in tests}) > 1:
        raise LoadError(
            f"{shown}: declares {len(tests)} tests ({', '.join(k for k, _ in tests)}): "
            "one Test per file",
            "",
        )
    test = tests[0][1]
    description = (module.__doc__ or "").strip().splitlines()
    if not description or not description[0].strip():
        raise LoadError(
            f"{shown}: has no docstring: its first line is the test's description "
            '(start the file with """What this test checks.""")',
            "",
        )
    try:
        test.validate()
    except DeclarationError as e:
        raise _load_error(e, path) from None
    return description[0].strip(), test


# -- the result file -----------------------------------------------------------------------


def write_result(result_file, document):
    """Writes `document` as JSON, atomically: the helper never reads half a result."""
    tmp = f"{result_file}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(document, f, allow_nan=False)
        f.write("\n")
    os.replace(tmp, result_file)


def _plan(test_file, result_file):
    try:
        description, test = load(test_file)
        document = {"plan": test.plan(description)}
    except LoadError as e:
        document = {"error": {"message": e.message, "traceback": e.traceback}}
    write_result(result_file, document)


# -- running a step ------------------------------------------------------------------------


def _a(noun):
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _unserializable(value, path="value", seen=None):
    """Where in `value` JSON stops (path and what is there), or None."""
    if value is None or isinstance(value, (bool, int, str)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, f"the float {value!r}")
    seen = set() if seen is None else seen
    if id(value) in seen:
        return (path, "a reference back to a containing object (a cycle)")
    if isinstance(value, (list, tuple)):
        seen.add(id(value))
        for i, item in enumerate(value):
            found = _unserializable(item, f"{path}[{i}]", seen)
            if found:
                return found
        seen.discard(id(value))
        return None
    if isinstance(value, dict):
        seen.add(id(value))
        for key, item in value.items():
            if not (key is None or isinstance(key, (str, int, float, bool))):
                return (f"{path} (a key)", f"{_a(type(key).__name__)} key {key!r}")
            found = _unserializable(item, f"{path}[{key!r}]", seen)
            if found:
                return found
        seen.discard(id(value))
        return None
    return (path, _a(type(value).__name__))


def _value_outcome(value):
    """PASS with `value`, or FAIL not_serializable saying why JSON cannot carry it."""
    found = _unserializable(value)
    if found is None:
        try:
            text = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as e:  # should not happen once the walk passed
            found = ("value", str(e))
    if found is not None:
        where, what = found
        return _fail(
            "not_serializable",
            f"the step returned {what} at {where}, which JSON cannot carry: return None, "
            "booleans, numbers, strings, lists and dicts with string keys",
        )
    if len(text) > MAX_VALUE_BYTES:
        return _fail(
            "not_serializable",
            f"the step returned {len(text) / 1048576:.1f} MiB of JSON, more than the "
            f"{MAX_VALUE_BYTES // 1048576} MiB a result may carry: write big data to a file "
            "and return its path",
        )
    # Round-trip so the value is exactly what JSON carries (tuples -> lists, int keys -> str).
    value = json.loads(text)
    if _more_items_than(value, MAX_VALUE_ITEMS):
        return _fail(
            "not_serializable",
            f"the step returned more than {MAX_VALUE_ITEMS} items (values, list entries, "
            "dict keys and values): write big data to a file and return its path",
        )
    return {"status": "PASS", "value": value}


def _more_items_than(value, limit):
    """Whether `value` (JSON data) holds more than `limit` items, as YAML counts them: each
    value one, each dict key one more. Stops counting past the limit."""
    count = 1
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            count += 2 * len(item)
            children = item.values()
        elif isinstance(item, list):
            count += len(item)
            children = item
        else:
            continue
        if count > limit:
            return True
        pending.extend(children)
    return False


def _fail(kind, message, tb=None):
    failure = {"kind": kind, "message": _one_line(message) or kind}
    if tb:
        failure["traceback"] = tb
    return {"status": "FAIL", "failure": failure}


def _assertion_text(exc):
    """An assert's message, or the assert statement itself when it has none."""
    text = str(exc).strip()
    if text:
        return text
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    source = frames[-1].line if frames else ""
    return f"assertion failed: {source}" if source else "assertion failed"


def outcome_of(exc, path):
    """The StepOutcome for a step that raised `exc`."""
    if isinstance(exc, Stopped):
        return {"status": "PASS", "value": None}
    if isinstance(exc, Skipped):
        return {"status": "SKIP", "reason": redact(str(exc.reason))}
    if isinstance(exc, Failed):
        return _fail("assertion", exc.reason, _format_traceback(exc, drop_inner=True))
    if isinstance(exc, AssertionError):
        return _fail("assertion", _assertion_text(exc), _format_traceback(exc))
    if isinstance(exc, SystemExit):
        message = f"the step called sys.exit({exc.code!r}); end a step by returning, or with ctx.fail() / ctx.skip()"
    else:
        detail = str(exc)
        message = type(exc).__name__ + (f": {detail}" if detail else "")
    line = _line_in(exc, path)
    if line:
        message = f"{_one_line(message)} ({_shown_path(path)}:{line})"
    return _fail("exception", message, _format_traceback(exc))


def run_step(test_file, step_name, context_data):
    """Loads the test, runs one step, and returns its StepOutcome (never raises, except
    `Stopped` arriving before the step could start, which is a PASS with None too)."""
    path = os.path.abspath(test_file)
    try:
        _, test = load(path)
    except LoadError as e:
        return _fail("test_file", e.message, e.traceback or None)
    step, role = test.instance(step_name)
    if step is None:
        names = ", ".join(n for s in test.steps for n, _ in s.instances())
        return _fail("test_file", f"{_shown_path(path)} has no step {step_name!r} (steps: {names})")
    context_data = dict(context_data)
    if not context_data.get("role"):
        context_data["role"] = role
    ctx = Context.from_json(context_data, step=step_name)
    ctx.lnet_description = test.lnet_description
    ctx.fs = test.fs
    ctx.declared = {"lnet": test.lnet, "debug": test.debug}
    set_secrets(ctx.secrets)
    try:
        value = step.fn(ctx)
    except BaseException as e:
        return outcome_of(e, path)
    finally:
        # From here on SIGTERM must not interrupt writing the result.
        signal.signal(signal.SIGTERM, _note_late_stop)
    return _value_outcome(value)


def _raise_stopped(signum, frame):
    stop_requested()


def _note_late_stop(signum, frame):
    pass  # the step has ended; its result is being written


def _dump_stacks_on_signal(result_file):
    """On DUMP_SIGNAL, every thread's stack goes into STACK_FILE beside `result_file`.

    faulthandler writes from the signal handler itself, without waiting for the interpreter,
    so a step stuck in C code (a blocking call, a lock) says where it is too."""
    path = os.path.join(os.path.dirname(os.path.abspath(result_file)), STACK_FILE)
    try:
        stack = open(path, "w")
        faulthandler.register(DUMP_SIGNAL, file=stack, all_threads=True)
    except (OSError, ValueError, RuntimeError):
        return  # no stack on a timeout; the step runs all the same
    _STACK[:] = [stack]


def _step(test_file, step_name, context_file, result_file):
    _dump_stacks_on_signal(result_file)
    signal.signal(signal.SIGTERM, _raise_stopped)
    try:
        try:
            with open(context_file, encoding="utf-8") as f:
                context_data = json.load(f)
            if not isinstance(context_data, dict):
                raise ValueError("expected a JSON object (StepContext)")
        except (OSError, ValueError) as e:
            outcome = _fail("exception", f"cannot read the step context {context_file}: {e}")
        else:
            outcome = run_step(test_file, step_name, context_data)
    except Stopped:
        outcome = {"status": "PASS", "value": None}  # stopped before the step began
    signal.signal(signal.SIGTERM, _note_late_stop)
    sys.stdout.flush()
    sys.stderr.flush()
    write_result(result_file, {"outcome": outcome})


# -- the command line ----------------------------------------------------------------------


def _utf8_streams():
    """Line-buffered UTF-8 stdout and stderr whatever the locale (Python 3.6 under LANG=C
    would raise on the first non-ASCII character a step prints)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        try:
            buffer = stream.detach()
        except (AttributeError, ValueError, io.UnsupportedOperation):
            continue
        wrapped = io.TextIOWrapper(
            buffer, encoding="utf-8", errors="backslashreplace", line_buffering=True
        )
        setattr(sys, name, wrapped)
        setattr(sys, "__" + name + "__", wrapped)


# What `serve` imports before it is given its step: every module of the package, so that a
# step's `import lutf.lnet` (or any other) costs nothing once it runs.
_WARM_MODULES = (
    "clean", "context", "errors", "faults", "fs", "lnet", "logs", "poll", "process",
    "provision", "selftest", "stats", "system", "test",
)


def _serve():
    """`serve`: warms up, then runs the command read from stdin; returns its exit code."""
    import importlib

    for name in _WARM_MODULES:
        importlib.import_module("lutf." + name)
    line = sys.stdin.readline()
    if not line:
        return 0  # let go before it was given a step: nothing to do
    try:
        given = json.loads(line)
        cwd, args = given["cwd"], given["argv"]
    except (ValueError, TypeError, KeyError):
        cwd, args = None, None
    if not (isinstance(cwd, str) and isinstance(args, list)
            and all(isinstance(a, str) for a in args)):
        print('lutf.runner serve: expected {"cwd": folder, "argv": [strings]}',
              file=sys.stderr)
        return 2
    nice = given.get("nice")
    if isinstance(nice, int):
        # It waited at the lowest priority (started by root): the step runs at its own.
        try:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
        except OSError as e:
            print("lutf.runner serve: cannot take back priority {}: {}".format(nice, e),
                  file=sys.stderr)
            return 2
    try:
        os.chdir(cwd)
    except OSError as e:
        print("lutf.runner serve: cannot work in {}: {}".format(cwd, e), file=sys.stderr)
        return 2
    # The step sees what a step started cold sees: no stdin, its own command line.
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.stdin = sys.__stdin__ = open(0, encoding="utf-8", closefd=False)
    sys.argv[1:] = args
    return main(args)


def main(argv=None):
    """Runs one command; returns the exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args == ["serve"]:
        return _serve()
    if args[:1] == ["plan"] and len(args) == 3:
        command, call = _plan, args[1:]
    elif args[:1] == ["step"] and len(args) == 5:
        command, call = _step, args[1:]
    else:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        command(*call)
    except OSError as e:
        print(f"lutf.runner: cannot write the result file: {e}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    _utf8_streams()
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Do not wait for threads a step left behind: the result is written.
    os._exit(code)
