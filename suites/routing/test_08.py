"""Two routers: with selftest traffic running from the client to the server, both ends delete their route through router1; the traffic goes on through router2 with no errors, and router1 forwards none of the pings that follow (needs 4 nodes)."""
import time

from lutf import Stopped, Test, lnet, provision
from lutf.provision import LNet

from common import ROUTER, modules, pings, route_count, write_traffic

PINGS = 10

test = Test(roles=["client", "router1", "router2", "server"], lnet=LNet({
    "client": {"nets": {"tcp": [0]}, "routes": [{"net": "tcp1", "via": ["router1", "router2"]}]},
    "router1": ROUTER,
    "router2": ROUTER,
    "server": {"nets": {"tcp1": [1]}, "routes": [{"net": "tcp", "via": ["router1", "router2"]}]},
}, modules=modules("lnet_selftest")))


def far_net(ctx):
    """The net this end routes to, and its own net (where it reaches the routers)."""
    return ("tcp1", "tcp") if ctx.role == "client" else ("tcp", "tcp1")


@test.step(role=["client", "server"], timeout=180)
def routes_up(ctx):
    """Both routes of each end come up."""
    routes = provision.wait_routes(timeout=150)
    assert len(routes) == 2, f"expected two routes: {routes}"
    return len(routes)


@test.step(role=["client", "server"], after=[routes_up], background=True, timeout=120)
def delete_route(ctx):
    """5 s into the traffic, this end deletes its route through router1; only router2's is
    left. Returns router1's gateway NID."""
    far, near = far_net(ctx)
    gw = [n for n in ctx.nids["router1"] if n.endswith("@" + near)][0]
    time.sleep(5)
    lnet.del_route(far, gw)
    left = [r["gateway"] for r in (lnet.show_route(net=far) or {}).get("route") or []]
    assert gw not in left and len(left) == 1, f"routes to {far} after the delete: {left}"
    try:
        while True:
            time.sleep(1)
    except Stopped:
        return gw


@test.step(role="router2", after=[routes_up])
def count_before(ctx):
    """router2's route_count before the traffic."""
    return route_count()


@test.step(role="client", after=[delete_route, count_before], stops=[delete_route],
           timeout=240)
def traffic(ctx):
    """20 s of 1 MiB writes to the server, routes deleted 5 s in; no error node."""
    return write_traffic(ctx)


@test.step(role="router2", after=[traffic, count_before])
def router2_forwarded(ctx):
    """router2 carried traffic."""
    grew = route_count() - ctx.result(count_before)
    assert grew > 0, "router2 forwarded nothing"
    return grew


@test.step(role="router1", after=[traffic])
def router1_count(ctx):
    """router1's route_count once the traffic is over."""
    return route_count()


@test.step(role="client", after=[router1_count], timeout=180)
def ping_server(ctx):
    """Every ping of the server is answered, through router2 alone."""
    got = pings(ctx.nids["server"][0], PINGS)
    assert got == PINGS, f"{got} of {PINGS} pings answered"
    return got


@test.step(role="router1", after=[ping_server, router1_count])
def router1_idle(ctx):
    """router1 forwarded nothing of those pings: its routes are gone from both ends."""
    grew = route_count() - ctx.result(router1_count)
    assert grew == 0, f"router1 forwarded {grew} messages after its routes were deleted"
    return grew
