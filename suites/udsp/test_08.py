"""Rules with bad values (`abcd`, `tcppp`, `t`, `o2ibbb`, an address past 255, an address with no net) are refused with EINVAL ("failed to parse"); the rules stay as they were."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)

#: A huge net number (tcp99999999999) is left out: LNet takes it (common.py, LNet bugs met).
BAD = ["abcd", "tcppp", "t", "o2ibbb", "1.2.3.456@tcp", "1.2.3.4@"]


@test.step(timeout=300)
def bad_values(ctx):
    """One rule; each bad value as --src and --dst (lnetctl) and as src, dst and rte (liblnetconfig): refused."""
    common.start(ctx)
    common.add(src="tcp", priority=1)
    out = {}
    for value in BAD:
        for key in ("src", "dst"):
            out[f"{key} {value}"] = common.refused(
                common.EINVAL, f"udsp add --{key} {value}", common.add,
                **{key: value, "priority": 0})
        for key in ("src", "dst", "rte"):
            args = {key: value} if key != "rte" else {"dst": "tcp", "rte": value}
            common.refused(common.EINVAL, f"add_udsp({args})", lnet.add_udsp, **args)
    common.expect([{"idx": 0, "src": "tcp", "priority": 1}], "after the refusals")
    return out


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
