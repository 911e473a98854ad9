"""Two routers: with selftest traffic running from the client to the server, one router stops routing; the traffic goes on through the other with no errors (needs 4 nodes)."""
import time

from lutf import Stopped, Test, provision
from lutf.provision import LNet

from common import FAST_CHECKS, ROUTER, route_count, set_routing, write_traffic

test = Test(roles=["client", "router1", "router2", "server"], lnet=LNet({
    "client": {"nets": {"tcp": [0]}, "routes": [{"net": "tcp1", "via": ["router1", "router2"]}]},
    "router1": ROUTER,
    "router2": ROUTER,
    "server": {"nets": {"tcp1": [1]}, "routes": [{"net": "tcp", "via": ["router1", "router2"]}]},
}, modules={"lnet": dict(FAST_CHECKS), "lnet_selftest": {}}))


@test.step(role=["client", "server"], timeout=180)
def routes_up(ctx):
    """Both routes of each end come up."""
    routes = provision.wait_routes(timeout=150)
    assert len(routes) == 2, f"expected two routes: {routes}"
    return len(routes)


@test.step(role="router2", after=[routes_up])
def count_before(ctx):
    """router2's route_count before the traffic."""
    return route_count()


@test.step(role="router1", after=[count_before], background=True, timeout=120)
def turn_off(ctx):
    """5 s into the traffic, router1 stops routing (LNet is taken down after the test)."""
    time.sleep(5)
    states = set_routing(False, timeout=60)
    try:
        while True:
            time.sleep(1)
    except Stopped:
        return states


@test.step(role="client", after=[turn_off], stops=[turn_off], timeout=240)
def traffic(ctx):
    """20 s of 1 MiB writes to the server; no error node."""
    return write_traffic(ctx)


@test.step(role="router2", after=[count_before, traffic])
def router2_forwarded(ctx):
    """router2 carried traffic."""
    grew = route_count() - ctx.result(count_before)
    assert grew > 0, "router2 forwarded nothing"
    return grew
