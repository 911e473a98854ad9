"""lnet_selftest brw write 1M from a client on tcp to a server on tcp1 through a router guest: no errors, the router forwards the data."""
from lutf import Test, lnet

import common

test = Test(roles=["client", "router", "server"], interfaces=2)


@test.step(role="router", timeout=300)
def router(ctx):
    """The router: tcp on interface 1, tcp1 on interface 2, routing on; its NIDs."""
    return common.router_node(ctx)


@test.step(role="server", after=[router], timeout=300)
def server(ctx):
    """The server on tcp1 with a route to tcp through the router, lnet_selftest loaded; its NID."""
    nid = common.end_node(ctx, "tcp1", 1, route=("tcp", ctx.result(router)["tcp1"]))
    ctx.run(["modprobe", "lnet_selftest"])
    return nid


@test.step(role="client", after=[router, server], timeout=400)
def client(ctx):
    """The client on tcp with a route to tcp1, lnet_selftest loaded; the route up and the server answering."""
    nid = common.end_node(ctx, "tcp", 0, route=("tcp1", ctx.result(router)["tcp"]))
    ctx.run(["modprobe", "lnet_selftest"])
    common.wait_route_up(ctx, "tcp1")
    common.ping_ok(ctx.result(server))
    return nid


@test.step(role="router", after=[client], timeout=60)
def counted(ctx):
    """The router's forwarded bytes before the selftest."""
    return common.stats()["route_length"]


@test.step(role="client", after=[client, server, counted], timeout=300)
def selftest(ctx):
    """A brw write 1M batch runs ~10 s; lst reports no error node in either group."""
    with lnet.Selftest("dlc_routed", timeout=120) as lst:
        lst.add_group("clients", ctx.result(client))
        lst.add_group("servers", ctx.result(server))
        lst.add_batch("bulk")
        lst.add_test("bulk", "clients", "servers", "brw", mode="write", size="1M",
                     concurrency=4)
        lst.run("bulk")
        stat = lst.stat("servers", count=2, delay=5)
        lst.stop("bulk")
        errors = lst.show_error("clients", "servers")
    assert errors == {"clients": 0, "servers": 0}, f"lst show_error: {errors}"
    return {"errors": errors, "samples": len(stat.get("samples") or [])}


@test.step(role="router", after=[selftest, counted], timeout=60)
def forwarded(ctx):
    """The router forwarded the bulk data: route_length grew by at least 4 MiB."""
    grown = common.stats()["route_length"] - ctx.result(counted)
    assert grown >= 4 << 20, f"route_length grew by {grown} bytes"
    return grown


@test.cleanup(role=test.roles, timeout=300)
def down(ctx):
    """lnet_selftest unloaded, LNet unconfigured on the three nodes."""
    common.stop(ctx)
