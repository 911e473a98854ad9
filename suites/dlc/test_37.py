"""lnetctl refuses net and route commands missing a mandatory part (interface, net, gateway) with EINVAL, naming it; nothing changes."""
from lutf import Test, lnet

import common

test = Test(interfaces=1)

# lnetctl exits with the errno, as a byte: -EINVAL is 234.
EINVAL_EXIT = 256 + common.EINVAL


def refused_missing(what, argv, missing):
    """lnetctl ARGV exits -EINVAL saying `missing` is missing; the export is unchanged."""
    before = common.backup()
    out = lnet.lnetctl(*argv, check=False)
    said = " ".join([out.get("text") or ""] + [str(d) for d in out.get("diagnostics") or []])
    assert out["exit_code"] == EINVAL_EXIT, f"{what}: exit {out['exit_code']}: {said}"
    assert missing in said, f"{what}: no mention of {missing!r} in {said!r}"
    assert common.backup() == before, f"{what} changed the configuration"
    return said.strip()


@test.step(timeout=300)
def missing_parts(ctx):
    """net add without --if or without --net; route add/del without --gateway or without --net."""
    ifaces = common.start(ctx)
    lnet.add_ni("tcp", [ifaces[0]])
    gw = common.fake_gateway(ctx)
    lnet.add_route("tcp5", gw)
    cases = [
        ("net add without --if", ["net", "add", "--net", "tcp7"], "interface"),
        ("net add without --net", ["net", "add", "--if", ifaces[0]], "network"),
        ("route add without --gateway", ["route", "add", "--net", "tcp6"], "gateway"),
        ("route add without --net", ["route", "add", "--gateway", gw], "net"),
        ("route del without --gateway", ["route", "del", "--net", "tcp5"], "gateway"),
        ("route del without --net", ["route", "del", "--gateway", gw], "net"),
    ]
    said = {what: refused_missing(what, argv, missing) for what, argv, missing in cases}
    assert [r[:2] for r in common.routes()] == [("tcp5", gw)], common.routes()
    return said


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
