"""lutf: the Python side of the LNet Unit Test Framework (standard library only, Python 3.6+).

A test file declares a `Test` and its steps::

    \"\"\"Two nodes reach each other.\"\"\"
    from lutf import Test

    test = Test(roles=["server", "client"])

    @test.step(role="server")
    def address(ctx):
        return ctx.node.address

    @test.step(role="client", after=[address])
    def ping(ctx):
        ctx.run(["ping", "-c1", ctx.result(address)])

See docs/writing-tests.md for the whole API, and `lutf.lnet` (docs/lnet.md) for LNet.
"""

from .context import Attrs, Context, MissingResult, Node, Results
from . import lnet
from .errors import CommandFailed, DeclarationError, Failed, Skipped, Stopped, fail, skip
from .lnet import LnetError
from .poll import stays, wait_for
from .process import Output, run
from .test import Test

__all__ = [
    "Test",
    "Context",
    "Node",
    "Attrs",
    "Results",
    "MissingResult",
    "Output",
    "run",
    "wait_for",
    "stays",
    "fail",
    "skip",
    "Failed",
    "CommandFailed",
    "Skipped",
    "Stopped",
    "DeclarationError",
    "lnet",
    "LnetError",
]
