"""Routed provisioning on three nodes: client on tcp, server on tcp1, the router on both; the client reaches the server through it."""
from lutf import Test, lnet, provision, stats
from lutf.provision import LNet

test = Test(
    roles=["client", "router", "server"],
    lnet=LNet({
        "client": {"nets": {"tcp": [0]}, "routes": {"tcp1": "router"}},
        "router": {"nets": {"tcp": [0], "tcp1": [1]}, "routing": True,
                   # Small guests cannot hold LNet's default router buffers.
                   "buffers": {"tiny": 512, "small": 512, "large": 64}},
        "server": {"nets": {"tcp1": [1]}, "routes": {"tcp": "router"}},
    }),
)


@test.step(role="client", timeout=240)
def routed_ping(ctx):
    """The client has a route to tcp1, up, and pings the server's tcp1 NID through the router."""
    routes = provision.wait_routes(timeout=120)
    nets = [r.get("net") for r in routes]
    assert "tcp1" in nets, f"no route to tcp1 on the client: {routes}"
    server = ctx.nids["server"][0]
    assert server.endswith("@tcp1"), f"the server's NID is {server}"
    reply = None
    for _ in range(3):
        try:
            reply = lnet.ping(server, timeout=5)
            break
        except lnet.LnetError as e:
            print(f"ping {server}: {e.description} (errno {e.errno})")
    assert reply is not None, f"{server} does not answer through the router"
    return {"server": server, "client": ctx.nids["client"], "router": ctx.nids["router"]}


@test.step(role="router", after=[routed_ping])
def routed(ctx):
    """The router forwarded messages (route_count moved)."""
    count = stats.snapshot()["global"].get("route_count", 0)
    assert count > 0, "the router routed nothing"
    return count
