"""Steps hand their return values on: write a file, read it back, compare."""
import os
import tempfile
import uuid

from lutf import Test

test = Test()


@test.step
def write(ctx):
    """Write a random token into a new file."""
    token = uuid.uuid4().hex
    fd, path = tempfile.mkstemp(prefix="lutf-sample-")
    with os.fdopen(fd, "w") as f:
        f.write(token)
    return {"path": path, "token": token}


@test.step(after=[write])
def read(ctx):
    """Read the file back."""
    path = ctx.result(write)["path"]
    with open(path) as f:
        return {"content": f.read(), "bytes": os.path.getsize(path)}


@test.step(after=[write, read])
def compare(ctx):
    """What was read is what was written."""
    written, seen = ctx.result(write), ctx.result(read)
    assert seen["content"] == written["token"], (
        f"read {seen['content']!r} back, wrote {written['token']!r}"
    )
    return seen["bytes"]


@test.cleanup(after=[write])
def remove(ctx):
    """Remove the file, if it was written."""
    written = ctx.results.get(write)
    if written and os.path.exists(written["path"]):
        os.remove(written["path"])
        ctx.log("removed", written["path"])
