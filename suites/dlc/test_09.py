"""An NI bound to CPT 0 shows CPT [0]; a CPT the node lacks is refused with ERANGE and no NI is added."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)

ERANGE = -34


@test.step(timeout=300)
def cpt(ctx):
    """net add --cpt [N] (N = number of CPTs) fails with -ERANGE; --cpt [0] shows CPT "[0]"."""
    ifaces = common.start(ctx)
    # lo is bound to every CPT: its list says how many there are.
    shown_lo = lnet.show_net(net="lo", detail=1)["net"][0]["local NI(s)"][0]["CPT"]
    count = len(str(shown_lo).strip("[]").split(","))
    bad = f"[{count}]"  # CPTs are numbered from 0
    common.refused(ERANGE, f"net add --cpt {bad}", lnet.add_ni, "tcp", [ifaces[0]], cpts=bad)
    lnet.add_ni("tcp", [ifaces[0]], cpts="[0]")
    ni = common.nis("tcp", detail=1)
    assert len(ni) == 1 and str(ni[0]["CPT"]) == "[0]", ni
    return {"cpts": count, "refused": bad}


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
