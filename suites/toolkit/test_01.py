"""Selftest in one call: brw write 1M from the client to the server, rates above 0, no errors."""
from lutf import Test, selftest
from lutf.provision import LNet

test = Test(
    roles=["client", "server"],
    lnet=LNet(
        {"client": {"nets": {"tcp": [0]}}, "server": {"nets": {"tcp": [0]}}},
        modules={"lnet_selftest": {}},
    ),
)


@test.step(role="client", timeout=240)
def brw(ctx):
    """10 s of 1 MiB writes; the figures of both sides."""
    r = selftest.run(ctx, src=["client"], dst=["server"], test="brw", mode="write",
                     size="1M", concurrency=4, duration=10, interval=2)
    ctx.log("client", r["src"], "server", r["dst"], "errors", r["errors"])
    assert r["src"]["rates"].get("write", 0) > 0, f"no write RPCs from the client: {r['src']}"
    assert r["src"]["bandwidth"].get("write", 0) > 0, f"no write bandwidth: {r['src']}"
    assert r["dst"]["bandwidth"].get("read", 0) > 0, f"the server received nothing: {r['dst']}"
    assert r["errors"] == {"src": 0, "dst": 0}, f"selftest errors: {r['errors']}"
    return {"src": r["src"], "dst": r["dst"], "errors": r["errors"]}
