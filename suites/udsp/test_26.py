"""Two routers: with no rule pings are forwarded by both; router NID rules at both ends (`--dst <far NID> --rte <router1's primary NID>`) send them all through router1; replaced by rules for router2, all through router2 (needs 4 nodes)."""
from lutf import Test
from lutf.provision import LNet

import common

test = Test(roles=["client", "router1", "router2", "server"], lnet=LNet({
    "client": common.CLIENT, "router1": common.ROUTER, "router2": common.ROUTER,
    "server": common.SERVER}, modules={"lnet": dict(common.FAST_CHECKS)}))

ENDS = ["client", "server"]
ROUTERS = ["router1", "router2"]


def far(ctx):
    """The other end's NID and the net this end reaches the routers on."""
    if ctx.role == "client":
        return ctx.nids["server"][0], "tcp"
    return ctx.nids["client"][0], "tcp1"


@test.step(role=ENDS, timeout=300)
def routes_up(ctx):
    """Both routes of each end are up; the far end is discovered (through a router)."""
    common.wait_routes(ctx, 2)
    nid, _ = far(ctx)
    common.discover(nid)
    return nid


@test.step(role=ROUTERS, after=[routes_up])
def count0(ctx):
    """route_count before the pings without rules."""
    return common.route_count()


@test.step(role="client", after=[count0], timeout=300)
def free_pings(ctx):
    """The client pings the server, no rule anywhere."""
    common.ping_all(ctx.nids["server"][0])


@test.step(role=ROUTERS, after=[count0, free_pings])
def count1(ctx):
    """Forwarded without rules (each ping is a GET and its REPLY through some router)."""
    now = common.route_count()
    return {"before": now, "forwarded": now - ctx.result(count0)[ctx.role]}


@test.step(role="client", after=[count1], timeout=60)
def shared(ctx):
    """Both routers carried some of the 2 x PINGS messages."""
    forwarded = {r: ctx.result(count1)[r]["forwarded"] for r in ROUTERS}
    assert all(v > 0 for v in forwarded.values()), f"no rule: forwarded {forwarded}"
    assert sum(forwarded.values()) >= 2 * common.PINGS, f"no rule: forwarded {forwarded}"
    return forwarded


@test.step(role=ENDS, after=[shared], timeout=120)
def via_router1(ctx):
    """--dst <far end> --rte <router1's primary NID>; the peer NI lists it as preferred gateway."""
    nid, net = far(ctx)
    gw = common.router_nid(ctx, "router1", net)
    common.add(dst=nid, rte=gw)
    prefs = common.peer_priorities()[nid]
    assert prefs["gateways"] == [gw], f"{nid}: {prefs}"
    return prefs


@test.step(role="client", after=[via_router1], timeout=300)
def pings1(ctx):
    """The client pings the server under the router1 rules."""
    common.ping_all(ctx.nids["server"][0])


@test.step(role=ROUTERS, after=[count1, pings1])
def count2(ctx):
    """Forwarded under the router1 rules."""
    now = common.route_count()
    return {"before": now, "forwarded": now - ctx.result(count1)[ctx.role]["before"]}


@test.step(role=ENDS, after=[count2], timeout=120)
def via_router2(ctx):
    """Router1 carried every message, router2 none; the rule replaced by one for router2."""
    forwarded = {r: ctx.result(count2)[r]["forwarded"] for r in ROUTERS}
    assert forwarded["router2"] == 0 and forwarded["router1"] >= 2 * common.PINGS, (
        f"rules for router1: forwarded {forwarded}")
    nid, net = far(ctx)
    common.delete(0)
    gw = common.router_nid(ctx, "router2", net)
    common.add(dst=nid, rte=gw)
    prefs = common.peer_priorities()[nid]
    assert prefs["gateways"] == [gw], f"{nid}: {prefs}"
    return forwarded


@test.step(role="client", after=[via_router2], timeout=300)
def pings2(ctx):
    """The client pings the server under the router2 rules."""
    common.ping_all(ctx.nids["server"][0])


@test.step(role=ROUTERS, after=[count2, pings2])
def count3(ctx):
    """Forwarded under the router2 rules."""
    return common.route_count() - ctx.result(count2)[ctx.role]["before"]


@test.step(role="client", after=[count3], timeout=60)
def moved(ctx):
    """Router2 carried every message, router1 none."""
    forwarded = dict(ctx.result(count3))
    assert forwarded["router1"] == 0 and forwarded["router2"] >= 2 * common.PINGS, (
        f"rules for router2: forwarded {forwarded}")
    return forwarded
