"""Route priority picks the gateway: with routes through two routers, the one with priority 0 carries every ping both ways and the one with priority 1 forwards nothing (needs 4 nodes)."""
from lutf import Test, provision
from lutf.provision import LNet

from common import ROUTER, modules, pings, route_count

PINGS = 20


def ends(net):
    """Routes to `net`: router1 preferred (priority 0), router2 the spare (priority 1)."""
    return [{"net": net, "via": "router1", "priority": 0},
            {"net": net, "via": "router2", "priority": 1}]


test = Test(roles=["client", "router1", "router2", "server"], lnet=LNet({
    "client": {"nets": {"tcp": [0]}, "routes": ends("tcp1")},
    "router1": ROUTER,
    "router2": ROUTER,
    "server": {"nets": {"tcp1": [1]}, "routes": ends("tcp")},
}, modules=modules()))


@test.step(role=["client", "server"], timeout=180)
def routes_up(ctx):
    """Both routes of each end come up, with the priorities given."""
    routes = provision.wait_routes(timeout=150)
    assert sorted(int(r["priority"]) for r in routes) == [0, 1], f"priorities: {routes}"
    return len(routes)


@test.step(role=["router1", "router2"], after=[routes_up])
def count_before(ctx):
    """Each router's route_count before the pings."""
    return route_count()


@test.step(role="client", after=[count_before], timeout=180)
def ping_server(ctx):
    """Every ping of the server is answered."""
    got = pings(ctx.nids["server"][0], PINGS)
    assert got == PINGS, f"{got} of {PINGS} pings answered"
    return got


@test.step(role=["router1", "router2"], after=[ping_server, count_before])
def forwarded(ctx):
    """router1 forwarded each ping and its reply; router2 nothing."""
    grew = route_count() - ctx.result(count_before)[ctx.role]
    if ctx.role == "router1":
        assert grew >= 2 * PINGS, f"router1 forwarded {grew} messages for {PINGS} pings"
    else:
        assert grew == 0, f"router2 (priority 1) forwarded {grew} messages"
    return grew
