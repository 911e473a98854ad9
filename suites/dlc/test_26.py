"""A route to a net the node is on is refused (EINVAL), and a route's gateway peer cannot be deleted (EBUSY) while the route uses it."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)

EBUSY = -16


@test.step(timeout=300)
def route_rules(ctx):
    """route add --net tcp (local) fails -EINVAL; peer del of the gateway of tcp5's route fails -EBUSY; route and peer stay."""
    ifaces = common.start(ctx)
    lnet.add_ni("tcp", [ifaces[0]])
    gw = common.fake_gateway(ctx)
    lnet.add_route("tcp5", gw)
    local = common.refused(common.EINVAL, "route add --net tcp (local)", lnet.add_route, "tcp",
                           common.fake_gateway(ctx, 251))
    try:
        lnet.del_peer(gw)
    except lnet.LnetError as e:
        assert e.kind == "lnet" and e.errno == EBUSY, f"peer del {gw}: {e} ({e.errno})"
        gateway = {"errno": e.errno, "description": e.description}
    else:
        ctx.fail(f"peer del {gw} succeeded while route tcp5 uses it")
    assert [r[:2] for r in common.routes()] == [("tcp5", gw)], common.routes()
    assert gw in [p["primary nid"] for p in lnet.show_peer().get("peer") or []]
    return {"local net": local, "gateway peer": gateway}


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
