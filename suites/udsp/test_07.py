"""Deleting a rule at an index with no rule (20), or at a bad index (-5, abcd), is refused with LNet's error; the rules stay as they were."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)


@test.step(timeout=300)
def bad_index(ctx):
    """One rule; del --idx 20 (lnetctl and liblnetconfig): ENOENT; --idx -5, abcd: lnetctl's "Invalid index"."""
    common.start(ctx)
    common.add(src="tcp", priority=1)
    out = {
        "lib 20": common.refused(common.ENOENT, "del_udsp(idx=20)", lnet.del_udsp, idx=20),
        "cli 20": common.refused(common.ENOENT, "udsp del --idx 20", common.delete, 20),
    }
    for idx in ("-5", "abcd", "1x"):
        out[f"cli {idx}"] = common.cli_refused(f"udsp del --idx {idx}",
                                               ["udsp", "del", "--idx", idx], "Invalid index")
    out["cli no index"] = common.cli_refused("udsp del", ["udsp", "del"],
                                             "Must specify --idx or --all")
    common.expect([{"idx": 0, "src": "tcp", "priority": 1}], "after the refusals")
    return out


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
