"""ip2nets address patterns: a wildcard `A.*.*.*`, a range `[lo-hi]` and a stepped range `[lo-hi/2]` that hold the node's address each give their NI."""
from lutf import Test, lnet

import common

test = Test(interfaces=3)


@test.step(timeout=300)
def ip2nets_patterns(ctx):
    """tcp2(if1) A.*.*.*, tcp3(if3) A.B.C.[h-2-h+2], tcp4(if3) A.B.C.[h-2-h+4/2]; and tcp5 A.*.*.* without interface."""
    i0, i1, i2 = common.start(ctx, 3)[:3]
    a0, a2 = common.address(ctx, i0), common.address(ctx, i2)
    first = a0.split(".")[0]
    net3, host = a2.rsplit(".", 1)
    host = int(host)
    lo, hi = max(host - 2, 0), min(host + 2, 255)
    rules = {
        "tcp2": f"tcp2({i0}) {first}.*.*.*",
        "tcp3": f"tcp3({i2}) {net3}.[{lo}-{hi}]",
        "tcp4": f"tcp4({i2}) {net3}.[{lo}-{min(hi + 2, 255)}/2]",
    }
    for net, rule in rules.items():
        lnet.add_ni(net, ip2net=rule)
    want = {
        "tcp2": [(f"{a0}@tcp2", i0, "up")],
        "tcp3": [(f"{a2}@tcp3", i2, "up")],
        "tcp4": [(f"{a2}@tcp4", i2, "up")],
    }
    assert common.layout() == want, f"{rules}: {common.layout()}, expected {want}"
    # No interface named: LNet picks one of the node's interfaces itself.
    lnet.add_ni("tcp5", ip2net=f"tcp5 {first}.*.*.*")
    got = common.layout("tcp5").get("tcp5") or []
    assert len(got) == 1, f"tcp5 {first}.*.*.*: {got}"
    nid_, iface, status = got[0]
    assert nid_ == common.nid(ctx, iface, "tcp5") and status == "up", got
    return {"rules": rules, "tcp5": got[0]}


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
