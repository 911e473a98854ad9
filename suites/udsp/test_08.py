"""Rules with bad values (`--src abcd`, `tcppp`, `t`, `o2ibbb`, an address past 255, a huge net number) are refused with LNet's error; the rules stay as they were."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)

BAD = ["abcd", "tcppp", "t", "o2ibbb", "1.2.3.456@tcp", "tcp99999999999", "1.2.3.4@"]


@test.step(timeout=300)
def bad_values(ctx):
    """One rule; each bad value as --src and --dst (lnetctl) and src (liblnetconfig): refused."""
    common.start(ctx)
    common.add(src="tcp", priority=1)
    out = {}
    for value in BAD:
        for key in ("src", "dst"):
            out[f"{key} {value}"] = common.refused(
                common.EINVAL, f"udsp add --{key} {value}", common.add,
                **{key: value, "priority": 0})
        common.refused(common.EINVAL, f"add_udsp(src={value})", lnet.add_udsp, src=value,
                       priority=0)
    common.expect([{"idx": 0, "src": "tcp", "priority": 1}], "after the refusals")
    return out


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
