"""Across two nets (discovery on): client and server each with tcp on two interfaces and tcp1 on the third; lnet_selftest writes to the server's tcp NID go over both nets, half each (LNet round-robins the peer's nets, then the NIs within a net), and the two tcp NIs share their net's half (traffic.SPREAD_TOLERANCE)."""
from lutf import Test, lnet
from lutf.provision import LNet

import traffic

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": traffic.TWO_NETS}, "server": {"nets": traffic.TWO_NETS}},
    globals={"discovery": 1}, modules=traffic.MODULES))


@test.step(role="client", timeout=120)
def discovered(ctx):
    """Discovering the server's tcp NID finds its three NIDs on both nets, multi-rail."""
    server = ctx.nids["server"]
    lnet.discover(server[0])
    p = traffic.peer(server[0])
    assert p and p["mr"] and sorted(p["nids"]) == sorted(server), f"discovered {p}"
    assert {n.split("@")[1] for n in p["nids"]} == {"tcp", "tcp1"}, f"nets of {p}"
    return p


@test.step(role="client", after=[discovered], timeout=300)
def spread(ctx):
    """16 s of 1 MiB writes: each net carries half the sends, each tcp NI half of tcp's."""
    server, mine = ctx.nids["server"], ctx.nids["client"]
    before = traffic.snap()
    r = traffic.write(ctx)
    after = traffic.snap()
    traffic.no_new_drops(before, after, "writes")
    out = {"selftest": r}
    for kind, nids in (("peer_nis", server), ("nis", mine)):
        c = traffic.moved(before, after, kind, nids=nids)
        print(f"{kind} sends {c}")
        per_net = {}
        for n, v in c.items():
            net = n.split("@")[1]
            per_net[net] = per_net.get(net, 0) + v
        tcp = {n: v for n, v in c.items() if n.endswith("@tcp")}
        out[kind] = {"nets": traffic.even(per_net, f"{kind} sends per net"),
                     "tcp": traffic.even(tcp, f"{kind} sends per tcp NI")}
    return out
