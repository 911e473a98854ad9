"""`run()`: run a command from a step, echo it into the step's log, fail clearly if it fails."""

import os
import shlex
import signal
import subprocess
import sys

from .errors import CommandFailed


class Output(str):
    """A command's standard output, as a string, with the rest of what happened attached.

    Use it as the string it is (``"eth0" in out``, ``out.splitlines()``), or read
    ``out.stdout``, ``out.stderr``, ``out.returncode``, ``out.ok`` and ``out.command``.
    """

    def __new__(cls, stdout, stderr="", returncode=0, command=""):
        self = super().__new__(cls, stdout)
        self.stdout = stdout
        self.stderr = stderr
        self.returncode = returncode
        self.command = command
        return self

    @property
    def ok(self):
        """Whether the command exited 0."""
        return self.returncode == 0


def _decode(data):
    return data.decode("utf-8", errors="replace") if data else ""


def _last_line(*texts):
    for text in texts:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines:
            line = lines[-1]
            return line if len(line) <= 300 else line[:300] + "..."
    return ""


def _how_it_ended(returncode):
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name}"
    return f"exited {returncode}"


def _echo(stream, text):
    if text:
        stream.write(text if text.endswith("\n") else text + "\n")
        stream.flush()


def run(command, *, check=True, timeout=None, input=None, env=None, cwd=None, quiet=False):
    """Runs `command` and returns its stdout as an `Output` string.

    - `command`: a list of arguments, run directly (``["lnetctl", "net", "show"]``; numbers
      are turned into strings), or one string, run by ``/bin/sh -c`` (pipes, redirections).
    - `check`: when the command exits non-zero, raise `CommandFailed` (the step FAILs with
      the command and the last line of its stderr), unless False.
    - `timeout`: seconds before the command is killed and `CommandFailed` raised.
    - `input`: text or bytes written to its stdin (default: empty stdin).
    - `env`: variables added to the step's environment; `cwd`: its working directory.
    - `quiet`: do not copy the command and its output into the step's log.

    Not found, not executable and timed out are `CommandFailed` too, whatever `check` says.
    """
    if isinstance(command, str):
        argv = ["/bin/sh", "-c", command]
        shown = command
    elif isinstance(command, (list, tuple)):
        argv = [str(a) if not isinstance(a, (str, bytes)) else a for a in command]
        shown = " ".join(
            shlex.quote(a if isinstance(a, str) else a.decode("utf-8", "replace")) for a in argv
        )
    else:
        raise TypeError(
            f"run() takes a list of arguments or a shell command string, got {command!r}"
        )
    if not argv:
        raise ValueError("run() needs a command: the argument list is empty")
    if isinstance(input, str):
        input = input.encode("utf-8")
    full_env = None
    if env is not None:
        full_env = dict(os.environ)
        full_env.update({str(k): str(v) for k, v in env.items()})
    if not quiet:
        print(f"$ {shown}", flush=True)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            cwd=cwd,
        )
    except OSError as e:
        raise CommandFailed(f"cannot run `{shown}`: {e.strerror or e}") from None
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(proc)
        out, err = _drain(proc)
        output = Output(_decode(out), _decode(err), proc.returncode, shown)
        if not quiet:
            _echo(sys.stdout, output.stdout)
            _echo(sys.stderr, output.stderr)
        raise CommandFailed(
            f"`{shown}` did not finish within {timeout:g} s and was killed", output
        ) from None
    except BaseException:
        # Stopped, KeyboardInterrupt, ...: do not leave the command running behind us.
        _kill_tree(proc)
        _drain(proc)
        raise
    output = Output(_decode(out), _decode(err), proc.returncode, shown)
    if not quiet:
        _echo(sys.stdout, output.stdout)
        _echo(sys.stderr, output.stderr)
    if check and proc.returncode != 0:
        last = _last_line(output.stderr, output.stdout)
        reason = f"`{shown}` {_how_it_ended(proc.returncode)}"
        raise CommandFailed(reason + (f": {last}" if last else ""), output)
    return output


def _descendants(pid):
    """Every process below `pid`, from /proc (the command stays in the step's process group,
    so the helper's kill of that group reaches it; this is for killing one command)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may contain anything: split after it.
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_tree(proc):
    """Kills a command and everything it started (a shell pipeline's members too)."""
    try:
        below = _descendants(proc.pid)
    except OSError:
        below = []
    for pid in [proc.pid] + below:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _drain(proc):
    """Collects what a killed command left in its pipes without waiting on its children,
    which may hold the pipes open (a shell pipeline)."""
    try:
        return proc.communicate(timeout=2)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass
        proc.wait()
        return b"", b""
