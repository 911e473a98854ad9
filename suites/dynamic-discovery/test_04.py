"""`lnetctl set max_interfaces 800`: global show says 800; set back, it says the old value again."""
from lutf import Test, lnet
from lutf.provision import LNet

from common import global_value

test = Test(roles=["node"], lnet=LNet({"node": {"nets": {"tcp": [0]}}}))


@test.step(timeout=120)
def set_max_interfaces(ctx):
    """800 read back, then the value before restored and read back."""
    old = global_value("max_interfaces")
    assert old != 800, "max_interfaces is 800 already: the test could not see a change"
    try:
        lnet.lnetctl("set", "max_interfaces", 800)
        now = global_value("max_interfaces")
        assert now == 800, f"set max_interfaces 800: global show says {now}"
    finally:
        lnet.lnetctl("set", "max_interfaces", old)
    assert global_value("max_interfaces") == old, "max_interfaces not restored"
    return {"before": old, "set": now}
