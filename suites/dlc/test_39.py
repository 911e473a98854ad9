"""A route through a node with routing off stays down and a ping across it fails (EHOSTUNREACH), while the gateway itself answers."""
import time

from lutf import Test, lnet

import common

test = Test(roles=["client", "router", "server"], interfaces=2)

EHOSTUNREACH = -113


@test.step(role="router", timeout=300)
def gateway(ctx):
    """The gateway: tcp on interface 1, tcp1 on interface 2, routing left off; its NIDs."""
    common.interfaces(ctx, 2)
    ifaces = common.start(ctx)
    common.fast_router_checks()
    lnet.add_ni("tcp", [ifaces[0]])
    lnet.add_ni("tcp1", [ifaces[1]])
    return {"tcp": common.nid_of(ctx.node.addresses[0]),
            "tcp1": common.nid_of(ctx.node.addresses[1], "tcp1")}


@test.step(role="server", after=[gateway], timeout=300)
def server(ctx):
    """The server on tcp1, with a route to tcp through the gateway; its NID."""
    nid = common.end_node(ctx, "tcp1", 1, route=("tcp", ctx.result(gateway)["tcp1"]))
    return nid


@test.step(role="client", after=[gateway, server], timeout=300)
def not_routed(ctx):
    """The gateway answers a ping, yet the client's route to tcp1 is down and a ping of the server fails -EHOSTUNREACH."""
    common.end_node(ctx, "tcp", 0)
    gw = ctx.result(gateway)["tcp"]
    lnet.add_route("tcp1", gw)
    assert gw in common.ping_ok(gw), f"gateway {gw} did not answer"
    time.sleep(25)  # two router checks (10 s each, common.ROUTER_CHECKS)
    state = [r.get("state") for r in lnet.show_route(net="tcp1", detail=True)["route"]]
    assert state == ["down"], f"route via a non-router: {state}"
    try:
        lnet.ping(ctx.result(server), timeout=10)
    except lnet.LnetError as e:
        assert e.kind == "lnet" and e.errno == EHOSTUNREACH, f"ping: {e} ({e.errno})"
        return {"route": state, "ping errno": e.errno, "ping": e.description}
    ctx.fail(f"ping of {ctx.result(server)} crossed a node with routing off")


@test.cleanup(role=test.roles, timeout=300)
def down(ctx):
    """LNet unconfigured on the three nodes."""
    common.stop(ctx)
