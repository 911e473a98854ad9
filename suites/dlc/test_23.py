"""A routed ping: client on tcp, server on tcp1, a router guest on both; routes come up, the ping crosses, the router counts it."""
from lutf import Test, lnet

import common

test = Test(roles=["client", "router", "server"], interfaces=2)


@test.step(role="router", timeout=300)
def router(ctx):
    """The router: tcp on interface 1, tcp1 on interface 2, routing on; its NIDs."""
    return common.router_node(ctx)


@test.step(role="server", after=[router], timeout=300)
def server(ctx):
    """The server on tcp1 (interface 2), with a route to tcp through the router; its NID."""
    nid = common.end_node(ctx, "tcp1", 1, route=("tcp", ctx.result(router)["tcp1"]))
    return nid


@test.step(role="client", after=[router], timeout=300)
def client(ctx):
    """The client on tcp (interface 1), with a route to tcp1 through the router; its NID."""
    nid = common.end_node(ctx, "tcp", 0, route=("tcp1", ctx.result(router)["tcp"]))
    return nid


@test.step(role="router", after=[client, server], timeout=60)
def counted(ctx):
    """The router's route_count before the pings."""
    return common.stats()["route_count"]


@test.step(role="client", after=[router, server, counted], timeout=400)
def routed_ping(ctx):
    """The route to tcp1 is up (hop and gateway as added); ping of the server's tcp1 NID answers with it."""
    routes = common.wait_route_up(ctx, "tcp1")
    assert [r["gateway"] for r in routes] == [ctx.result(router)["tcp"]], routes
    nid = ctx.result(server)
    answered = common.ping_ok(nid)
    assert nid in answered, f"ping {nid} answered {answered}"
    return answered


@test.step(role="router", after=[routed_ping, counted], timeout=60)
def forwarded(ctx):
    """The router forwarded the ping and its reply: route_count grew by at least 2."""
    grown = common.stats()["route_count"] - ctx.result(counted)
    assert grown >= 2, f"route_count grew by {grown}"
    return grown


@test.cleanup(role=test.roles, timeout=300)
def down(ctx):
    """LNet unconfigured on the three nodes, as the test found it."""
    common.stop(ctx)
