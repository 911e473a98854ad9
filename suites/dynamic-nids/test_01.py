"""mgc.*.dynamic_nids toggles 0 -> 1 -> 0 on the MDS (MGS+MDT) and on the client of a mounted file system; lctl reads back each value (needs 3 nodes)."""
from lutf import Test

from common import ROLES, dynamic_nids, file_system, lnet_description, set_dynamic_nids

test = Test(roles=ROLES, lnet=lnet_description(), fs=file_system())


@test.step(role=["mds", "client"], timeout=120)
def toggle(ctx):
    """Read the default, set 1, read back, set 0, read back."""
    default = dynamic_nids()
    on = set_dynamic_nids(True)
    off = set_dynamic_nids(False)
    on_again = set_dynamic_nids(True)
    final = set_dynamic_nids(False)
    return {"default": default, "on": on, "off": off, "on_again": on_again, "final": final}
