"""Fault rules of every kind are removed both ways the toolkit and this suite rely on: faults.clear() (what `lutf.logs` and this suite's cleanup run at the end of every test, FAIL or not) and lnetctl lnet unconfigure (what `lutf.undo` and the next test's clean do).

Rules: drop rules with each health status, by rate and by interval, with a message type,
a portal and a receiving NID, plus delay rules; every one listed by `lctl net_drop_list`
and `net_delay_list` before, none after."""
from lutf import Test, faults, lnet
from lutf.provision import LNet

import common

test = Test(roles=["node"], lnet=LNet({"node": {"nets": common.SR}}, globals=common.GLOBALS))
common.begin(test)


def add_all(nid):
    """One rule of each kind; returns (drop rules, delay rules) added."""
    drops = 0
    for status in ("local_interrupt", "local_dropped", "local_aborted", "local_no_route",
                   "local_timeout", "local_error", "remote_dropped", "remote_error",
                   "remote_timeout", "network_timeout", "random"):
        faults.drop(src=nid, dst="*@tcp", rate=1, message="get", health=status)
        drops += 1
    faults.drop(src="*@tcp", dst=nid, interval=5)
    faults.drop(src="*@tcp", dst="*@tcp", rate=3, message="put", portal=4)
    faults.drop(src="*@tcp", dst=nid, rate=1, local_nid=nid)
    drops += 3
    faults.delay(src="*@tcp", dst=nid, rate=2, latency=1)
    faults.delay(src=nid, dst="*@tcp", interval=3, latency=2, message="get")
    return drops, 2


@test.step(role="node", timeout=600)
def cleared(ctx):
    """Every kind added and listed; faults.clear(): none listed."""
    common.fresh(ctx)
    nid = ctx.nids["node"][0]
    drops, delays = add_all(nid)
    listed = faults.list()
    assert (len(listed["drop"]), len(listed["delay"])) == (drops, delays), listed
    faults.clear()
    left = faults.list()
    assert left == {"drop": [], "delay": []}, f"faults.clear() left {left}"
    return {"drop": drops, "delay": delays}


@test.step(role="node", after=[cleared], timeout=600)
def unconfigured(ctx):
    """Every kind added again; lnetctl lnet unconfigure, configure: none listed."""
    nid = ctx.nids["node"][0]
    drops, delays = add_all(nid)
    assert common.rules_count() == drops + delays, faults.list()
    lnet.unconfigure()
    lnet.configure()
    left = faults.list()
    assert left == {"drop": [], "delay": []}, f"rules outlived lnet unconfigure: {left}"
    return left
