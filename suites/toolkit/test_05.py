"""LNet changed from inside a step: both nodes add tcp1 on their second interface with provision.apply, and the new NIDs answer."""
from lutf import Test, lnet, provision
from lutf.provision import LNet

test = Test(
    roles=["client", "server"],
    lnet=LNet({"client": {"nets": {"tcp": [0]}}, "server": {"nets": {"tcp": [0]}}}),
)

MORE = LNet({"client": {"nets": {"tcp1": [1]}}, "server": {"nets": {"tcp1": [1]}}})


@test.step(role=["client", "server"], timeout=180)
def add_tcp1(ctx):
    """Apply the second description on this node; return its NIDs now."""
    done = provision.apply(ctx, MORE)
    assert any(n.endswith("@tcp1") for n in done["nids"]), f"no tcp1 NID: {done['nids']}"
    return done["nids"]


@test.step(role="client", after=[add_tcp1], timeout=120)
def ping_tcp1(ctx):
    """The server's new NID answers."""
    server = [n for n in ctx.result(add_tcp1)["server"] if n.endswith("@tcp1")][0]
    assert server == provision.planned_nids(ctx.nodes, MORE)["server"][0]
    lnet.ping(server, timeout=5)
    return server
