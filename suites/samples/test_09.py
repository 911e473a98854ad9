"""LNet through lutf.lnet: liblnetconfig and lnetctl agree on the NIDs, and each one answers a ping."""
from lutf import Test, lnet

test = Test(lnet=True)


def nids_of(shown):
    """The NIDs of a `net show` tree, `0@lo` left out."""
    return sorted(
        ni["nid"]
        for net in shown.get("net") or []
        for ni in net.get("local NI(s)") or []
        if ni.get("nid") and ni["nid"] != "0@lo"
    )


@test.step
def nids(ctx):
    """The NIDs liblnetconfig shows are the ones lnetctl prints."""
    # SKIPs, saying why, where Lustre is missing, LNet is not loaded or its version unknown.
    shown = lnet.require()
    from_library = nids_of(shown)
    if not from_library:
        ctx.skip(f"LNet is loaded but not configured on {ctx.node.name}")
    from_lnetctl = nids_of(lnet.lnetctl("net", "show")["output"])
    assert from_library == from_lnetctl, (
        f"liblnetconfig shows {from_library}, lnetctl shows {from_lnetctl}"
    )
    return from_library


@test.step(after=[nids])
def ping_self(ctx):
    """Each of the node's NIDs answers a ping; a NID that cannot answer fails with its errno."""
    answered = {}
    for nid in ctx.result(nids):
        try:
            reply = lnet.ping(nid, timeout=5)
        except lnet.LnetError as e:
            ctx.fail(f"ping {nid}: {e.description} (errno {e.errno})")
        answered[nid] = [p["primary nid"] for p in reply.get("ping") or []]
    return answered
