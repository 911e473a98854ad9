"""Shared by routing tests 02 and 03: brw selftest each way through the router."""
from lutf import Test, provision, selftest
from lutf.provision import LNet

from common import CLIENT, ROUTER, SERVER, modules, route_count


def make(size):
    """A test: routes up both ways, then `size` brw writes client->server and
    server->client; no errors, traffic both ways, the router forwarded it."""
    test = Test(roles=["client", "router", "server"], lnet=LNet(
        {"client": CLIENT, "router": ROUTER, "server": SERVER},
        modules=modules("lnet_selftest")))

    @test.step(role=["client", "server"], timeout=180)
    def routes_up(ctx):
        """Each end's route through the router comes up."""
        return [r["net"] for r in provision.wait_routes(timeout=150)]

    @test.step(role="router", after=[routes_up])
    def count_before(ctx):
        """route_count before the traffic."""
        return route_count()

    @test.step(role="client", after=[count_before], timeout=240)
    def traffic(ctx):
        """brw write of `size` each way, 6 s each; rates above 0, no error node."""
        out = {}
        for name, src, dst in (("there", "client", "server"), ("back", "server", "client")):
            r = selftest.run(ctx, src=[src], dst=[dst], test="brw", mode="write", size=size,
                             concurrency=2, duration=6, interval=2)
            ctx.log(name, r["src"], r["dst"], r["errors"])
            assert r["errors"] == {"src": 0, "dst": 0}, f"{src}->{dst} errors: {r['errors']}"
            assert r["dst"]["bandwidth"].get("read", 0) > 0, f"{dst} received nothing: {r}"
            out[name] = r["src"]["bandwidth"]
        return out

    @test.step(role="router", after=[count_before, traffic])
    def forwarded(ctx):
        """The router forwarded the traffic (route_count moved)."""
        grew = route_count() - ctx.result(count_before)
        assert grew > 0, "the router forwarded nothing"
        return grew

    return test
