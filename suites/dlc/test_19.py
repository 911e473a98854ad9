"""A route through a gateway on no local net is refused (EHOSTUNREACH); deleting a route that is not there is refused (ENOENT)."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)

EHOSTUNREACH = -113


@test.step(timeout=300)
def route_refused(ctx):
    """route add via x@tcp9 (no NI on tcp9) fails -EHOSTUNREACH; route del of an absent route -ENOENT; routes unchanged."""
    ifaces = common.start(ctx)
    lnet.add_ni("tcp", [ifaces[0]])
    gw = common.fake_gateway(ctx)
    lnet.add_route("tcp5", gw)
    a = common.refused(EHOSTUNREACH, "route add via tcp9", lnet.add_route, "tcp6",
                       common.fake_gateway(ctx, net="tcp9"))
    b = common.refused(common.ENOENT, "route del tcp6", lnet.del_route, "tcp6", gw)
    assert [r[:2] for r in common.routes()] == [("tcp5", gw)], common.routes()
    return {"unreachable gateway": a, "absent route": b}


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
