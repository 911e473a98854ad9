"""A gateway's route_count grows by at least the number of pings sent through it from the client to the server."""
from lutf import Test, provision
from lutf.provision import LNet

from common import CLIENT, ROUTER, SERVER, modules, pings, route_count

PINGS = 10

test = Test(roles=["client", "router", "server"], lnet=LNet(
    {"client": CLIENT, "router": ROUTER, "server": SERVER}, modules=modules()))


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


@test.step(role="router", after=[count_before, ping_server])
def count_after(ctx):
    """route_count grew by at least one message per ping."""
    grew = route_count() - ctx.result(count_before)
    assert grew >= PINGS, f"route_count grew by {grew} for {PINGS} routed pings"
    return grew
