"""Deleting a whole net (both its NIs) leaves the other net exactly as it was, in net show -v and in export."""
from lutf import Test, lnet

import common

test = Test(interfaces=3)


def exported_net(name):
    """The export --backup entry of net `name`, or None."""
    for n in common.backup().get("net") or []:
        if n["net type"] == name:
            return n
    return None


@test.step(timeout=300)
def del_net(ctx):
    """tcp over interface 1, tcp1 over 2 and 3; net del tcp1: tcp1 gone, tcp unchanged; net del tcp: lo only."""
    i0, i1, i2 = common.start(ctx, 3)[:3]
    lnet.add_ni("tcp", [i0])
    lnet.add_ni("tcp1", [i1, i2])
    tcp = exported_net("tcp")
    assert tcp is not None and len(exported_net("tcp1")["local NI(s)"]) == 2, common.backup()
    lnet.del_ni("tcp1")
    assert common.nets() == ["lo", "tcp"], common.nets()
    assert exported_net("tcp1") is None, common.backup()
    assert exported_net("tcp") == tcp, f"tcp changed: {tcp} -> {exported_net('tcp')}"
    assert common.layout() == {"tcp": [(common.nid(ctx, i0), i0, "up")]}, common.layout()
    lnet.del_ni("tcp")
    assert common.nets() == ["lo"], common.nets()
    return tcp


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
