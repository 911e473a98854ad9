"""A background step works while later steps run, then is stopped and says how much it did."""
import os
import tempfile
import time

from lutf import Stopped, Test

test = Test()


@test.step
def prepare(ctx):
    """A file for the background step to append to."""
    fd, path = tempfile.mkstemp(prefix="lutf-sample-")
    os.close(fd)
    return path


@test.step(after=[prepare], background=True)
def writer(ctx):
    """Append a line every 50 ms until stopped; return how many lines it wrote."""
    path = ctx.result(prepare)
    lines = 0
    try:
        while True:
            with open(path, "a") as f:
                f.write(f"line {lines}\n")
            lines += 1
            time.sleep(0.05)
    except Stopped:
        ctx.log(f"stopped after {lines} lines")
        return {"lines": lines}


@test.step(after=[prepare, writer], stops=[writer])
def watch(ctx):
    """While the writer runs, see its file grow; the writer is stopped once this ends."""
    path = ctx.result(prepare)
    first = os.path.getsize(path)
    deadline = time.time() + 30  # generous: only proves the writer is alive
    while os.path.getsize(path) <= first:
        assert time.time() < deadline, f"{path} did not grow in 30 s"
        time.sleep(0.05)
    return os.path.getsize(path)


@test.step(after=[prepare, watch, writer])
def count(ctx):
    """The writer's count matches its file (it sees the writer's result: it comes after
    `watch`, which stopped the writer)."""
    with open(ctx.result(prepare)) as f:
        in_file = sum(1 for _ in f)
    said = ctx.result(writer)["lines"]
    assert said > 0, "the writer wrote nothing"
    # The stop may land between writing a line and counting it: one line more is fine.
    assert said <= in_file <= said + 1, f"the writer says {said} lines, its file has {in_file}"
    return {"lines": said}


@test.cleanup(after=[prepare])
def remove(ctx):
    """Remove the file."""
    path = ctx.results.get(prepare)
    if path and os.path.exists(path):
        os.remove(path)
