"""Routing and router buffers through YAML: `lnetctl import` of `routing: enable: 1` with tiny/small/large buffers shows in routing show; `enable: 0` turns routing off."""
from lutf import Test, lnet
from lutf.provision import LNet

from common import DISABLED, ENABLED, STARTING, buffers, modules, routing_state, wait_for

# Above the guests' module options (512/512/64) so the change shows, small enough for 1 GiB.
WANT = {"tiny": 640, "small": 640, "large": 80}

test = Test(roles=["router"], lnet=LNet({"router": {"nets": {"tcp": [0]}}}, modules=modules()))


@test.step(timeout=120)
def import_buffers(ctx):
    """Routing on with WANT's buffers, read back; then routing off, read back."""
    assert routing_state() == DISABLED, "routing is on before the import"
    lnet.lnetctl("import", stdin="routing:\n    enable: 1\nbuffers:\n" + "".join(
        f"    {k}: {v}\n" for k, v in WANT.items()))
    assert routing_state() in (STARTING, ENABLED), "routing show does not say routing is on"
    got = buffers()
    assert got == WANT, f"routing show gives buffers {got}, imported {WANT}"
    wait_for("routing state after importing enable: 1", routing_state, ENABLED, timeout=90)
    lnet.lnetctl("import", stdin="routing:\n    enable: 0\n")
    wait_for("routing state after importing enable: 0", routing_state, DISABLED, timeout=90)
    return got
