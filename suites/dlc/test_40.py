"""Routing and router buffers set by YAML import show in routing show; importing routing disabled turns it off."""
from lutf import Test, lnet

import common

test = Test()

ON_YAML = """routing:
    enable: 1
buffers:
    tiny: 640
    small: 720
    large: 72
"""
OFF_YAML = """routing:
    enable: 0
"""
# routing show's "enable" is LNet's routing state: 1 enabled, 3 starting (routing starts
# after a router check interval); 0 disabled, 2 stopping.
ON, OFF = (1, 3), (0, 2)


def state():
    shown = lnet.show_routing() or {}
    enable = [e["enable"] for e in shown.get("routing") or [] if "enable" in e]
    buffers = {k: int(v) for k, v in (shown.get("buffers") or {}).items()}
    return enable, buffers


@test.step(timeout=300)
def saved(ctx):
    """LNet up, routing off; the buffer counts of the lnet module's options.

    (Routing is not turned on and off here: while it stops, LNet refuses to start it again
    with EBUSY.)"""
    common.start(ctx)
    enable, _ = state()
    assert all(e == 0 for e in enable), f"routing state at start: {enable}"
    return {k: int(open(f"{common.PARAMS}{k}_router_buffers").read()) for k in ("tiny", "small", "large")}


@test.step(after=[saved], timeout=300)
def yaml_routing(ctx):
    """yaml_config of routing enable 1 with buffers 640/720/72: on, with those; of enable 0: off."""
    lnet.yaml_config(ON_YAML)
    enable, buffers = state()
    assert enable and all(e in ON for e in enable), f"routing state after import: {enable}"
    assert buffers == {"tiny": 640, "small": 720, "large": 72}, buffers
    lnet.yaml_config(OFF_YAML)
    enable, _ = state()
    assert enable and all(e in OFF for e in enable), f"routing state after disable: {enable}"
    return buffers


@test.cleanup(after=[saved], timeout=300)
def down(ctx):
    """Routing off, buffers restored, LNet unconfigured."""
    before = ctx.results.get("saved")
    try:
        common.restore_routing(before)
    finally:
        common.stop(ctx)
