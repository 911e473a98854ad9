"""Three NIs on one tcp net, one per interface: net show -v and export list each with its interface's NID, all up."""
from lutf import Test, lnet

import common

test = Test(interfaces=3)


@test.step(timeout=300)
def one_net(ctx):
    """net add tcp over the first three interfaces in one call: three NIs on tcp, NID = address@tcp."""
    ifaces = common.start(ctx, 3)[:3]
    lnet.add_ni("tcp", ifaces)
    want = sorted((common.nid(ctx, i), i, "up") for i in ifaces)
    got = common.layout()
    assert got == {"tcp": want}, f"net show -v: {got}, expected tcp: {want}"
    exported = [n for n in common.backup().get("net") or [] if n["net type"] == "tcp"]
    assert len(exported) == 1, exported
    exported_ifs = sorted(ni["interfaces"]["0"] for ni in exported[0]["local NI(s)"])
    assert exported_ifs == sorted(ifaces), f"export --backup: {exported}"
    return want


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
