"""A failure caught inside the test, and a cleanup that runs after it."""
import os
import tempfile

from lutf import CommandFailed, Test

test = Test()


@test.step
def make_workspace(ctx):
    """Create a folder the test will leave behind for its cleanup."""
    return {"folder": tempfile.mkdtemp(prefix="lutf-sample-")}


@test.step(after=[make_workspace])
def expect_failure(ctx):
    """Listing a folder that does not exist fails, and the test expects it to."""
    missing = os.path.join(ctx.result(make_workspace)["folder"], "missing")
    try:
        ctx.run(["ls", missing])
    except CommandFailed as e:
        assert e.output.returncode != 0, "a failed command has a non-zero exit code"
        ctx.log("failed as expected:", e)
        return {"caught": str(e)}
    ctx.fail(f"`ls {missing}` succeeded, but the folder does not exist")


@test.cleanup(after=[make_workspace])
def remove_workspace(ctx):
    """Always runs: remove the folder and check it is gone."""
    made = ctx.results.get(make_workspace)
    if made is None:
        return "nothing to remove"
    os.rmdir(made["folder"])
    assert not os.path.exists(made["folder"]), f"{made['folder']} is still there"
    return f"removed {made['folder']}"
