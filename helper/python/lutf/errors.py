"""How a step ends other than by returning: it fails, skips the test, or is stopped.

`Failed`, `Skipped` and `Stopped` derive from `BaseException`, like `KeyboardInterrupt`, so
that a step's own `except Exception:` cannot swallow them by accident. `DeclarationError`
is an ordinary exception: it is raised while a test file is imported, never inside a step.
"""


class Outcome(BaseException):
    """Base of the exceptions that end a step with a verdict other than a plain return."""

    def __init__(self, reason):
        reason = str(reason).strip()
        super().__init__(reason)
        self.reason = reason


class Failed(Outcome):
    """The step fails with `reason` as its message (raised by `fail()` and `ctx.fail()`).

    Reported like a failed `assert`: kind `assertion`, message `reason`.
    """

    def __init__(self, reason):
        super().__init__(reason or "failed (no reason given)")


class CommandFailed(Failed):
    """A command run by `run()` / `ctx.run()` exited non-zero, timed out or could not start.

    `output` is the command's `Output` (stdout, stderr, returncode) when it ran at all.
    Catch it to expect a failure::

        try:
            ctx.run(["lnetctl", "net", "add", "--net", "tcp", "--if", "nosuch0"])
        except CommandFailed as e:
            assert "nosuch0" in e.output.stderr
    """

    def __init__(self, reason, output=None):
        super().__init__(reason)
        self.output = output


class Skipped(Outcome):
    """The step skips the whole test with `reason` (raised by `skip()` and `ctx.skip()`)."""

    def __init__(self, reason):
        super().__init__(reason or "skipped (no reason given)")


class Stopped(Outcome):
    """Raised inside a background step when the master stops it (the runner gets SIGTERM).

    Catch it to return what the step did so far; a step that lets it propagate ends PASS
    with the value `None`::

        count = 0
        try:
            while True:
                ...
                count += 1
        except Stopped:
            return {"rounds": count}
    """

    def __init__(self, reason="stopped"):
        super().__init__(reason)


class DeclarationError(Exception):
    """A test file declares an invalid test (unknown role, cyclic dependency, ...).

    `line` is the line the mistake is on and `file` the file it is in, when known.
    """

    def __init__(self, message, line=None, file=None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.file = file


def fail(reason):
    """Ends the step as FAIL with `reason` as the failure message."""
    raise Failed(reason)


def skip(reason):
    """Ends the step and skips the whole test, with `reason` (say what is missing)."""
    raise Skipped(reason)


# Tracebacks name them as test writers import them: `lutf.Failed`, not `lutf.errors.Failed`.
for _cls in (Outcome, Failed, CommandFailed, Skipped, Stopped, DeclarationError):
    _cls.__module__ = "lutf"
del _cls
