"""lnet_selftest across a router: client (tcp) - router (tcp, tcp1) - server (tcp1), routes configured both ways; brw write and read of 1 MiB and 4 KiB with no error node, and the router's forwarded count (route_count) grows (needs 3 nodes, 2 interfaces on the router and the server)."""
from lutf import Test, provision, stats
from lutf.provision import LNet

from common import brw

#: Router checks every 5 s with a 5 s timeout, so the routes come up in seconds.
FAST = {"alive_router_check_interval": 5, "router_ping_timeout": 5}

test = Test(roles=["client", "router", "server"], lnet=LNet({
    "client": {"nets": {"tcp": [0]}, "routes": {"tcp1": "router"}},
    "router": {"nets": {"tcp": [0], "tcp1": [1]}, "routing": True,
               "buffers": {"tiny": 512, "small": 512, "large": 64}},
    "server": {"nets": {"tcp1": [1]}, "routes": {"tcp": "router"}},
}, modules={"lnet": dict(FAST), "lnet_selftest": {}}))


#: Messages this node has forwarded (the toolkit's `lutf.stats.route_count`).
route_count = stats.route_count


@test.step(role=["client", "server"], timeout=180)
def routes_up(ctx):
    """Each end's route through the router comes up."""
    return [r["net"] for r in provision.wait_routes(timeout=150)]


@test.step(role="router", after=[routes_up])
def count_before(ctx):
    """route_count before the traffic."""
    return route_count()


@test.step(role="client", after=[count_before], timeout=300)
def traffic(ctx):
    """brw write and read of 1M and 4k from the client to the server, across the router."""
    return {f"{mode} {size}": brw(ctx, ["client"], ["server"], mode, size)
            for mode in ("write", "read") for size in ("1M", "4k")}


@test.step(role="router", after=[count_before, traffic])
def forwarded(ctx):
    """The router forwarded the traffic: route_count grew (by more than the pings)."""
    before, after = ctx.result(count_before), route_count()
    ctx.log("route_count", before, "->", after)
    assert after > before, f"the router forwarded nothing: route_count {before} -> {after}"
    return after - before
