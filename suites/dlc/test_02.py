"""A net with a bad name ("amir") is refused by lnetctl with ENOENT ("cannot parse net") and nothing is added."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)


@test.step(timeout=300)
def bad_net(ctx):
    """lnetctl net add --net amir fails with -ENOENT; the configuration is unchanged.

    (lutf's own liblnetconfig call refuses such a name before LNet sees it, so lnetctl is
    what is asked here.)"""
    ifaces = common.start(ctx)
    descr = common.refused(common.ENOENT, "net add amir", lnet.lnetctl, "net", "add",
                           "--net", "amir", "--if", ifaces[0])
    assert common.nets() == ["lo"], common.nets()
    return descr


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
