"""A gateway's route_count grows by at least the number of pings routed through it; routes follow the router's state: `set routing 0` takes both ends' routes down and pings fail, `set routing 1` brings them back."""
from lutf import Test, provision
from lutf.provision import LNet

from common import (CLIENT, ROUTER, SERVER, modules, pings, route_count, route_states,
                    set_routing, wait_for)

PINGS = 10

test = Test(roles=["client", "router", "server"], lnet=LNet(
    {"client": CLIENT, "router": ROUTER, "server": SERVER}, modules=modules()))


def far_end(ctx):
    """The net this end routes to and the other end's NID."""
    if ctx.role == "client":
        return "tcp1", ctx.nids["server"][0]
    return "tcp", ctx.nids["client"][0]


@test.step(role=["client", "server"], timeout=180)
def routes_up(ctx):
    """Each end's route through the router comes up."""
    return [r["net"] for r in provision.wait_routes(timeout=150)]


@test.step(role="router", after=[routes_up])
def count_before(ctx):
    """route_count before the pings."""
    return route_count()


@test.step(role="client", after=[count_before], timeout=120)
def ping_server(ctx):
    """The server's tcp1 NID answers every ping."""
    got = pings(ctx.nids["server"][0], PINGS)
    assert got == PINGS, f"{got} of {PINGS} pings through the router answered"
    return got


@test.step(role="router", after=[count_before, ping_server], timeout=150)
def counted_then_off(ctx):
    """route_count grew by at least one message per ping; then routing is turned off."""
    grew = route_count() - ctx.result(count_before)
    assert grew >= PINGS, f"route_count grew by {grew} for {PINGS} routed pings"
    return {"route_count": grew, "states": set_routing(False)}


@test.step(role=["client", "server"], after=[counted_then_off], timeout=150)
def routes_down(ctx):
    """The route goes down; the other end does not answer through the router."""
    net, far = far_end(ctx)
    wait_for(f"route to {net}, router not routing", lambda: route_states().get(net), "down")
    assert pings(far, 1, timeout=3) == 0, f"{far} answered through a router not routing"


@test.step(role="router", after=[routes_down], timeout=150)
def routing_on(ctx):
    """The router routes again."""
    return set_routing(True)


@test.step(role=["client", "server"], after=[routing_on], timeout=150)
def routes_back(ctx):
    """The route comes back up and the other end answers."""
    net, far = far_end(ctx)
    wait_for(f"route to {net}, routing back", lambda: route_states().get(net), "up")
    assert pings(far, 3) >= 1, f"{far} does not answer once routing is back"
