"""A route added with a gateway range (x.x.x.[250-252]@tcp) is one route per gateway; deleting with the range removes all."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)


@test.step(timeout=300)
def gateway_range(ctx):
    """route add --net tcp5 --gateway a.b.c.[250-252]@tcp: three routes; route del with the same range: none."""
    ifaces = common.start(ctx)
    lnet.add_ni("tcp", [ifaces[0]])
    prefix = ctx.node.addresses[0].rsplit(".", 1)[0]
    gws = f"{prefix}.[250-252]@tcp"
    lnet.lnetctl("route", "add", "--net", "tcp5", "--gateway", gws)
    got = [r[1] for r in common.routes(net="tcp5")]
    assert got == [f"{prefix}.{h}@tcp" for h in (250, 251, 252)], got
    lnet.lnetctl("route", "del", "--net", "tcp5", "--gateway", gws)
    assert common.routes() == [], common.routes()
    return got


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
