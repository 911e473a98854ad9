"""Failover across two routers: pings cross both; with routing off on one, its routes go down and every ping goes through the other.

Needs 4 nodes (client, two routers, server), each with 2 interfaces."""
from lutf import Test, lnet

import common

test = Test(roles=["client", "router1", "router2", "server"], interfaces=2)

PINGS = 20


@test.step(role=["router1", "router2"], timeout=300)
def routers(ctx):
    """Each router: tcp on interface 1, tcp1 on interface 2, routing on; its NIDs."""
    return common.router_node(ctx)


@test.step(role="client", after=[routers], timeout=300)
def client_routes(ctx):
    """The client on tcp, with a route to tcp1 through each router.

    The client comes first: a router marks its NI on a net down when nothing arrives there
    for a router check's span, and the server would see every route to tcp down until the
    client's router checks reach the routers."""
    common.end_node(ctx, "tcp", 0)
    for nids in ctx.result(routers).values():
        lnet.add_route("tcp1", nids["tcp"])


@test.step(role="server", after=[routers, client_routes], timeout=400)
def server(ctx):
    """The server on tcp1, with a route to tcp through each router, both up; its NID."""
    nid = common.end_node(ctx, "tcp1", 1)
    for nids in ctx.result(routers).values():
        lnet.add_route("tcp", nids["tcp1"])
    common.wait_route_up(ctx, "tcp")
    return nid


@test.step(role="client", after=[server], timeout=400)
def client(ctx):
    """Both of the client's routes to tcp1 up; their gateways."""
    return [r["gateway"] for r in common.wait_route_up(ctx, "tcp1")]


@test.step(role=["router1", "router2"], after=[client], timeout=60)
def count1(ctx):
    """Each router's route_count before the first pings."""
    return common.stats()["route_count"]


@test.step(role="client", after=[count1, server], timeout=300)
def pings1(ctx):
    """PINGS pings of the server, all answered."""
    for _ in range(PINGS):
        common.ping_ok(ctx.result(server))
    return PINGS


@test.step(role=["router1", "router2"], after=[pings1, count1], timeout=60)
def shared(ctx):
    """Both routers forwarded some of the pings."""
    grown = common.stats()["route_count"] - ctx.result(count1)[ctx.role]
    assert grown > 0, f"{ctx.role} forwarded nothing of {PINGS} pings"
    return grown


@test.step(role="router1", after=[shared], timeout=60)
def router1_off(ctx):
    """Routing turned off on router1; its route_count then."""
    lnet.set_routing(False)
    return common.stats()["route_count"]


@test.step(role="server", after=[router1_off, routers], timeout=400)
def server_sees(ctx):
    """The server's route back through router1 goes down (replies take router2)."""
    gw1 = ctx.result(routers)["router1"]["tcp1"]
    states = common.wait_gateway_down(ctx, "tcp", gw1)
    assert list(states.values()).count("up") == 1, states
    return states


@test.step(role="client", after=[server_sees, routers, server], timeout=400)
def failover(ctx):
    """The client's route through router1 goes down (router2's stays up); PINGS pings all answered."""
    state = common.wait_gateway_down(ctx, "tcp1", ctx.result(routers)["router1"]["tcp"])
    assert list(state.values()).count("up") == 1, state
    for _ in range(PINGS):
        common.ping_ok(ctx.result(server))
    return state


@test.step(role="router1", after=[failover, router1_off], timeout=60)
def unused(ctx):
    """router1 forwarded nothing once its routes were down."""
    grown = common.stats()["route_count"] - ctx.result(router1_off)
    assert grown == 0, f"router1 forwarded {grown} messages with routing off"
    return grown


@test.cleanup(role=test.roles, timeout=300)
def down(ctx):
    """LNet unconfigured on the four nodes."""
    common.stop(ctx)
