"""A route added with hops and priority shows with them (and the gateway, net and multi-hop type); route del removes it."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)


@test.step(timeout=300)
def route_add_del(ctx):
    """route add tcp5 via a gateway on the local net, hop 3 priority 2; show lists it; del; show empty."""
    ifaces = common.start(ctx)
    lnet.add_ni("tcp", [ifaces[0]])
    gw = common.fake_gateway(ctx)
    lnet.add_route("tcp5", gw, hops=3, priority=2)
    assert common.routes() == [("tcp5", gw, 3, 2)], common.routes()
    shown = lnet.show_route(net="tcp5", detail=True)["route"][0]
    assert shown.get("type") == "multi-hop", shown
    lnet.del_route("tcp5", gw)
    assert common.routes() == [], common.routes()
    return shown


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
