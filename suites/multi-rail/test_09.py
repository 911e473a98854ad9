"""ip2nets rules matching no local address (ENOENT) and malformed rules (EINVAL) are refused, and the configuration is unchanged."""
from lutf import Test, lnet

import common

test = Test(interfaces=2)


@test.step(timeout=300)
def ip2nets_refused(ctx):
    """tcp on if1; rules on tcp6: another first octet, a range around the address but not on it,
    no address at all, and "tcp6(if1, if2)[1,3]": each refused, tcp alone remains."""
    i0, i1 = common.start(ctx, 2)[:2]
    lnet.add_ni("tcp", [i0])
    a0 = common.address(ctx, i0)
    octets = a0.split(".")
    other = next(str(o) for o in range(1, 255)
                 if all(a.split(".")[0] != str(o) for a in ctx.node.addresses))
    host = int(octets[3])
    lo, hi = (host + 1, host + 3) if host + 3 <= 255 else (host - 3, host - 1)
    no_match = {
        "other network": f"tcp6({i0}) {other}.*.*.*",
        "range without it": f"tcp6({i0}) {'.'.join(octets[:3])}.[{lo}-{hi}]",
        "no address": f"tcp6({i0})",
    }
    out = {}
    for what, rule in no_match.items():
        out[rule] = common.refused(common.ENOENT, f"ip2net {rule!r} ({what})",
                                   lnet.add_ni, "tcp6", ip2net=rule)
    bad = f"tcp6({i0}, {i1})[1,3]"
    out[bad] = common.refused(common.EINVAL, f"malformed ip2net {bad!r}",
                              lnet.add_ni, "tcp6", ip2net=bad)
    assert common.layout() == {"tcp": [(f"{a0}@tcp", i0, "up")]}, common.layout()
    return out


@test.cleanup(timeout=300)
def down(ctx):
    """LNet unconfigured, as the test found it."""
    common.stop(ctx)
