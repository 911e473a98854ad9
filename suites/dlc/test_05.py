"""Deleting a net that is not configured is refused (liblnetconfig: ENOENT, lnetctl: EINVAL); the configured net stays."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)


@test.step(timeout=300)
def del_missing_net(ctx):
    """del_ni / net del tcp7 (never added) fail; tcp is still there, unchanged."""
    ifaces = common.start(ctx)
    lnet.add_ni("tcp", [ifaces[0]])
    lib = common.refused(common.ENOENT, "del_ni tcp7", lnet.del_ni, "tcp7")
    cli = common.refused(common.EINVAL, "lnetctl net del tcp7", lnet.lnetctl, "net", "del",
                         "--net", "tcp7")
    assert common.nets() == ["lo", "tcp"], common.nets()
    return {"liblnetconfig": lib, "lnetctl": cli}


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
