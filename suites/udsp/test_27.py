"""Two routers: a router rule for a destination net (`--dst tcp1 --rte <router2>` at the client, `--dst tcp --rte <router2>` at the server, router2 named by its primary NID) sends every routed ping through router2 (needs 4 nodes)."""
from lutf import Test
from lutf.provision import LNet

import common

test = Test(roles=["client", "router1", "router2", "server"], lnet=LNet({
    "client": common.CLIENT, "router1": common.ROUTER, "router2": common.ROUTER,
    "server": common.SERVER}, modules={"lnet": dict(common.FAST_CHECKS)}))

ENDS = ["client", "server"]
ROUTERS = ["router1", "router2"]


@test.step(role=ENDS, timeout=300)
def net_rule(ctx):
    """Routes up, the far end discovered, then the rule for the far net through router2."""
    common.wait_routes(ctx, 2)
    mine, far_net = ("tcp", "tcp1") if ctx.role == "client" else ("tcp1", "tcp")
    far = ctx.nids["server" if ctx.role == "client" else "client"][0]
    common.discover(far)
    gw = common.router_nid(ctx, "router2", mine)
    common.add(dst=far_net, rte=gw)
    assert common.rules() == [{"idx": 0, "dst": far_net, "rte": gw}], common.rules()
    prefs = common.peer_priorities()[far]
    assert prefs["gateways"] == [gw], f"{far}: {prefs}"
    return prefs


@test.step(role=ROUTERS, after=[net_rule])
def count_before(ctx):
    """route_count before the pings."""
    return common.route_count()


@test.step(role="client", after=[count_before], timeout=300)
def pings(ctx):
    """The client pings the server."""
    common.ping_all(ctx.nids["server"][0])


@test.step(role=ROUTERS, after=[count_before, pings])
def forwarded(ctx):
    """What each router forwarded meanwhile."""
    return common.route_count() - ctx.result(count_before)[ctx.role]


@test.step(role="client", after=[forwarded], timeout=60)
def through_router2(ctx):
    """Router2 carried every message (GETs and REPLYs), router1 none."""
    got = dict(ctx.result(forwarded))
    assert got["router1"] == 0 and got["router2"] >= 2 * common.PINGS, f"forwarded {got}"
    return got
