"""YAML `global: discovery: 0`, then 1, through `lnetctl import`: global show follows each."""
from lutf import Test
from lutf.provision import LNet

from common import global_value, import_global

test = Test(roles=["node"], lnet=LNet({"node": {"nets": {"tcp": [0]}}}))


@test.step(timeout=120)
def import_discovery(ctx):
    """Imported off, then on; each read back from global show."""
    seen = [global_value("discovery")]
    for value in (0, 1):
        import_global("discovery", value)
        seen.append(global_value("discovery"))
        assert seen[-1] == value, f"import discovery: {value}: global show says {seen[-1]}"
    return seen
