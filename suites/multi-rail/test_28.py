"""A non-multi-rail peer (``peer add --non_mr``, discovery off) is reached through one NID only: lnet_selftest writes to its primary NID all go to that peer NI, from one local NI, though the peer lists all three NIDs."""
from lutf import Test, lnet
from lutf.provision import LNet

import traffic

test = Test(roles=["client", "server"], lnet=LNet(
    {"client": {"nets": traffic.THREE_NIS}, "server": {"nets": traffic.THREE_NIS}},
    globals={"discovery": 0}, modules=traffic.MODULES))


@test.step(role="client", timeout=120)
def non_mr(ctx):
    """The server added as a non-MR peer with its three NIDs: peer show says so."""
    traffic.known_bug(ctx)
    server = ctx.nids["server"]
    lnet.lnetctl("peer", "add", "--prim_nid", server[0], "--nid", ",".join(server[1:]),
                 "--non_mr")
    p = traffic.peer(server[0])
    assert p and not p["mr"] and p["primary"] == server[0], f"peer {p}: expected non-MR"
    assert sorted(p["nids"]) == sorted(server), f"peer {p} lacks some of {server}"
    return p


@test.step(role="client", after=[non_mr], timeout=300)
def one_path(ctx):
    """16 s of 1 MiB writes to the primary NID: every send to it, from a single local NI."""
    server = ctx.nids["server"]
    before = traffic.snap()
    r = traffic.write(ctx)
    after = traffic.snap()
    traffic.no_new_drops(before, after, "writes")
    to = traffic.moved(before, after, "peer_nis", nids=server)
    by = traffic.moved(before, after, "nis", nids=ctx.nids["client"])
    print(f"peer NI sends {to}; local NI sends {by}")
    assert to[server[0]] >= 10, f"few sends to the primary NID: {to}"
    traffic.only(to, server[0], to[server[0]], "sends per server NI")
    used = [n for n, c in by.items() if c]
    assert len(used) == 1, f"sends left by {len(used)} local NIs ({by}), expected one"
    assert by[used[0]] == to[server[0]], f"local NI sends {by} do not match peer NI {to}"
    p = traffic.peer(server[0])
    assert p and not p["mr"], f"the peer became {p}"
    return {"selftest": r, "peer NIs": to, "local NIs": by}
