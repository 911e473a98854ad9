"""YAML `global: max_intf: 500` through `lnetctl import` shows as max_interfaces 500."""
from lutf import Test, lnet
from lutf.provision import LNet

from common import global_value, import_global

test = Test(roles=["node"], lnet=LNet({"node": {"nets": {"tcp": [0]}}}))


@test.step(timeout=120)
def import_max_intf(ctx):
    """The YAML key max_intf sets what global show calls max_interfaces; then restored."""
    old = global_value("max_interfaces")
    assert old != 500, "max_interfaces is 500 already: the test could not see a change"
    try:
        import_global("max_intf", 500)
        now = global_value("max_interfaces")
        assert now == 500, f"import max_intf: 500: global show says max_interfaces {now}"
    finally:
        lnet.lnetctl("set", "max_interfaces", old)
    return {"before": old, "imported": now}
