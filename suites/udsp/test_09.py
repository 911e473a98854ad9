"""Bad priorities and combinations are refused (a negative or non-numeric priority, src with rte, src with dst and rte, no match at all); the rules stay as they were."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)


@test.step(timeout=300)
def bad_rules(ctx):
    """One rule; --priority -1 / abc; --src + --rte; --src + --dst + --rte; liblnetconfig with no match."""
    nid = common.start(ctx)[0]
    common.add(src="tcp", priority=1)
    out = {}
    for p in ("-1", "abc"):
        out[f"priority {p}"] = common.cli_refused(
            f"udsp add --src tcp1 --priority {p}",
            ["udsp", "add", "--src", "tcp1", "--priority", p], "Invalid priority")
    out["src+rte"] = common.refused(common.EINVAL, "--src + --rte", common.add, src=nid,
                                    rte="1.1.1.2@tcp")
    out["src+dst+rte"] = common.refused(common.EINVAL, "--src + --dst + --rte", common.add,
                                        src=nid, dst="1.1.1.1@tcp", rte="1.1.1.2@tcp")
    out["nothing"] = common.refused(common.EINVAL, "add_udsp() with no match",
                                    lnet.add_udsp, priority=1)
    common.expect([{"idx": 0, "src": "tcp", "priority": 1}], "after the refusals")
    return out


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
