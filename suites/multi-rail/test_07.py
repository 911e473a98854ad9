"""ip2nets rules naming interfaces: `tcp(if2) ADDR` gives one NI on if2; `tcp1(if2,if3) PATTERN` gives one NI on each."""
from lutf import Test, lnet

import common

test = Test(interfaces=3)


@test.step(timeout=300)
def ip2nets_interfaces(ctx):
    """add_ni with ip2net "tcp(IF2) A2" then "tcp1(IF2,IF3) X.Y.[a-b].*": the NIs net show -v lists."""
    i0, i1, i2 = common.start(ctx, 3)[:3]
    a1, a2 = common.address(ctx, i1), common.address(ctx, i2)
    lnet.add_ni("tcp", ip2net=f"tcp({i1}) {a1}")
    assert common.layout() == {"tcp": [(f"{a1}@tcp", i1, "up")]}, common.layout()
    third = sorted(int(a.split(".")[2]) for a in (a1, a2))
    pattern = ".".join(a1.split(".")[:2]) + f".[{third[0]}-{third[1]}].*"
    rule = f"tcp1({i1},{i2}) {pattern}"
    lnet.add_ni("tcp1", ip2net=rule)
    want = {
        "tcp": [(f"{a1}@tcp", i1, "up")],
        "tcp1": sorted([(f"{a1}@tcp1", i1, "up"), (f"{a2}@tcp1", i2, "up")]),
    }
    assert common.layout() == want, f"after {rule!r}: {common.layout()}, expected {want}"
    return {"rules": [f"tcp({i1}) {a1}", rule], "nis": want}


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
