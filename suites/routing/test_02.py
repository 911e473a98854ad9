"""Routes both ways: lnet_selftest brw of 4 KiB, then 1 MiB, from the client to the server and from the server to the client through the router, with no errors."""
from lutf import Test, provision, selftest
from lutf.provision import LNet

from common import CLIENT, ROUTER, SERVER, modules, route_count

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


@test.step(role="client", after=[count_before], timeout=300)
def traffic(ctx):
    """brw writes of each size each way, 4 s each; data received, no error node."""
    out = {}
    for size in ("4k", "1M"):
        for src, dst in (("client", "server"), ("server", "client")):
            r = selftest.run(ctx, src=[src], dst=[dst], test="brw", mode="write", size=size,
                             concurrency=2, duration=4, interval=2)
            ctx.log(size, src, "->", dst, r["src"], r["dst"], r["errors"])
            assert r["errors"] == {"src": 0, "dst": 0}, f"{size} {src}->{dst}: {r['errors']}"
            assert r["dst"]["bandwidth"].get("read", 0) > 0, f"{size}: {dst} got nothing: {r}"
            out[f"{size} {src}->{dst}"] = r["src"]["bandwidth"]
    return out


@test.step(role="router", after=[count_before, traffic])
def forwarded(ctx):
    """The router forwarded the traffic (route_count moved)."""
    grew = route_count() - ctx.result(count_before)
    assert grew > 0, "the router forwarded nothing"
    return grew
