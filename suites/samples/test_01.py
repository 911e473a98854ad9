"""One step: the node's facts agree with what its kernel says."""
import os

from lutf import Test

test = Test()


@test.step
def whoami(ctx):
    """Compare hostname and kernel from the facts with uname."""
    uname = os.uname()
    assert ctx.node.hostname == uname.nodename, (
        f"facts say hostname {ctx.node.hostname!r}, uname says {uname.nodename!r}"
    )
    assert ctx.node.kernel == uname.release, (
        f"facts say kernel {ctx.node.kernel!r}, uname says {uname.release!r}"
    )
    ctx.log(f"{ctx.node.name} is {ctx.node.hostname}, kernel {ctx.node.kernel}")
    return {"hostname": ctx.node.hostname, "kernel": ctx.node.kernel}
