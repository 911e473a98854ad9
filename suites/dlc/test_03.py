"""An NI on an interface the node does not have is refused (liblnetconfig: EINVAL, lnetctl: ENETDOWN); no net is added."""
from lutf import Test, lnet

import common

test = Test()


@test.step(timeout=300)
def bad_interface(ctx):
    """add_ni / net add --if NAME, NAME no interface of the node has, fail; nothing is added."""
    common.start(ctx)
    present = [i["name"] for i in ctx.node.facts.get("interfaces", [])]
    missing = next(f"nosuch{n}" for n in range(100) if f"nosuch{n}" not in present)
    lib = common.refused(common.EINVAL, f"add_ni --if {missing}", lnet.add_ni, "tcp5",
                         [missing])
    cli = common.refused(common.ENETDOWN, f"lnetctl net add --if {missing}", lnet.lnetctl,
                         "net", "add", "--net", "tcp5", "--if", missing)
    assert common.nets() == ["lo"], common.nets()
    return {"liblnetconfig": lib, "lnetctl": cli}


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
