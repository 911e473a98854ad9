"""LNet: the NIDs in the node's facts are the ones lnetctl shows."""
import re

from lutf import Test

test = Test(lnet=True)


@test.step
def nids(ctx):
    """Compare the facts' NIDs with `lnetctl net show`."""
    lnet = ctx.node.lnet
    if not lnet.configured:
        ctx.skip(f"LNet is loaded but not configured on {ctx.node.name}")
    shown = ctx.run(["lnetctl", "net", "show"])
    listed = [n for n in re.findall(r"nid:\s*(\S+)", shown) if n != "0@lo"]
    assert sorted(listed) == sorted(lnet.nids), (
        f"lnetctl shows NIDs {listed}, the facts say {lnet.nids}"
    )
    return listed
