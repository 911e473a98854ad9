"""Shared by routing tests 04 and 05: routes against the router's NI states, with
avoid_asym_router_failure on or off.

The server starts without a route back. The router's tcp NI comes up once the client's
router checker pings it, its tcp1 NI only once the server has a route through it. With
avoid_asym_router_failure=1 the client's route stays down while the router cannot reach
tcp1; with 0 it comes up at once. Then the client takes LNet down: the router's tcp NI goes
down, and the server's route goes down with it only when avoid_asym_router_failure=1.
"""
from lutf import Test, lnet
from lutf.provision import LNet

from common import (CLIENT, ROUTER, SERVER_NO_ROUTE, gateway_nid, modules, ni_status, pings,
                    route_states, stays, wait_for)


def make(aarf):
    """The test for avoid_asym_router_failure=`aarf` (1 or 0)."""
    test = Test(roles=["client", "router", "server"], lnet=LNet(
        {"client": CLIENT, "router": ROUTER, "server": SERVER_NO_ROUTE},
        modules=modules(avoid_asym_router_failure=aarf)))

    @test.step(role="client", timeout=60)
    def start_checker(ctx):
        """Ping the gateway so that the router sees the client at once."""
        assert pings(gateway_nid(ctx, "tcp"), 1) == 1, "the router does not answer on tcp"

    @test.step(role="router", after=[start_checker], timeout=150)
    def local_ni_up(ctx):
        """The router's tcp NI comes up; its tcp1 NI, which nobody uses yet, is down."""
        wait_for("router NI on tcp", lambda: ni_status("tcp"), "up")
        return wait_for("router NI on tcp1, no tcp1 peer yet", lambda: ni_status("tcp1"), "down")

    @test.step(role="client", after=[local_ni_up], timeout=150)
    def route_while_asymmetric(ctx):
        """The client's route to tcp1 is down (aarf=1) or up (aarf=0) while tcp1 is down."""
        get = lambda: route_states().get("tcp1")  # noqa: E731
        if aarf:
            stays("route to tcp1 (aarf=1, router's tcp1 NI down)", get, "down", seconds=15)
        else:
            wait_for("route to tcp1 (aarf=0)", get, "up")
        return get()

    @test.step(role="server", after=[route_while_asymmetric], timeout=150)
    def route_back(ctx):
        """The server adds its route to tcp through the router's tcp1 NID; it comes up."""
        lnet.add_route("tcp", gateway_nid(ctx, "tcp1"))
        wait_for("server's route to tcp", lambda: route_states().get("tcp"), "up")

    @test.step(role="router", after=[route_back], timeout=150)
    def remote_ni_up(ctx):
        """With the server routing through it, the router's tcp1 NI comes up."""
        return wait_for("router NI on tcp1", lambda: ni_status("tcp1"), "up")

    @test.step(role="client", after=[remote_ni_up], timeout=150)
    def symmetric(ctx):
        """The client's route is up and the server answers; then the client takes LNet down."""
        wait_for("client's route to tcp1", lambda: route_states().get("tcp1"), "up")
        assert pings(ctx.nids["server"][0], 3) == 3, "the server does not answer every ping"
        lnet.lnetctl("lnet", "unconfigure")

    @test.step(role="router", after=[symmetric], timeout=150)
    def client_gone(ctx):
        """Without the client, the router's tcp NI goes down; tcp1 stays up."""
        wait_for("router NI on tcp", lambda: ni_status("tcp"), "down")
        assert ni_status("tcp1") == "up", "the router's tcp1 NI went down too"

    @test.step(role="server", after=[client_gone], timeout=150)
    def server_route(ctx):
        """The server's route to tcp goes down (aarf=1) or stays up (aarf=0)."""
        get = lambda: route_states().get("tcp")  # noqa: E731
        if aarf:
            wait_for("server's route to tcp (aarf=1, router's tcp NI down)", get, "down")
        else:
            stays("server's route to tcp (aarf=0)", get, "up", seconds=12)
        return get()

    return test
