"""`lnetctl set discovery` 0 then 1: global show follows each change."""
from lutf import Test, lnet
from lutf.provision import LNet

from common import global_value

test = Test(roles=["node"], lnet=LNet({"node": {"nets": {"tcp": [0]}}}))


@test.step(timeout=120)
def set_discovery(ctx):
    """Off, then on again; each read back from global show."""
    seen = [global_value("discovery")]
    assert seen[0] == 1, f"discovery starts off: {seen[0]}"
    for value in (0, 1):
        lnet.lnetctl("set", "discovery", value)
        seen.append(global_value("discovery"))
        assert seen[-1] == value, f"set discovery {value}: global show says {seen[-1]}"
    return seen
