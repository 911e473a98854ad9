"""Shared by the selftest tests: one lnet_selftest brw batch between two groups, checked.

Every verdict comes from lst itself: the rates and bandwidth ``lst stat`` prints for each
group (averaged by ``lutf.selftest``) and the error nodes ``lst show_error`` counts.
A brw *write* sends bulk from the source group to the destination group; a brw *read* asks
the destination group for bulk, which flows back to the source group.
"""
from lutf import selftest

#: Seconds of traffic per batch: the guests are emulated, 6 s gives three stat rounds.
SECONDS = 6


def brw(ctx, src, dst, mode, size, seconds=SECONDS, concurrency=2):
    """One brw batch of `mode` ("read"/"write") and `size` from the roles `src` to `dst`.

    Asserts that the source group sent RPCs (rate of `mode` above 0), that the bulk went the
    way `mode` says (the receiving group's read bandwidth and the sending group's write
    bandwidth above 0) and that ``lst show_error`` counts no error node on either side.
    Returns the averages of both groups.
    """
    r = selftest.run(ctx, src=src, dst=dst, test="brw", mode=mode, size=size,
                     concurrency=concurrency, duration=seconds, interval=2)
    what = f"brw {mode} {size} {'+'.join(src)} -> {'+'.join(dst)}"
    ctx.log(what, "src", r["src"], "dst", r["dst"], "errors", r["errors"],
            "samples", len(r["samples"]))
    assert r["samples"], f"{what}: lst stat printed no sample"
    assert r["errors"] == {"src": 0, "dst": 0}, f"{what}: error nodes {r['errors']}"
    rates = r["src"]["rates"]
    assert sum(rates.values()) > 0, f"{what}: the source group sent no RPC: {r['src']}"
    # write: data flows src -> dst; read: dst -> src.
    sender, receiver = ("src", "dst") if mode == "write" else ("dst", "src")
    assert r[sender]["bandwidth"].get("write", 0) > 0, \
        f"{what}: the {sender} group sent no bulk data: {r[sender]}"
    assert r[receiver]["bandwidth"].get("read", 0) > 0, \
        f"{what}: the {receiver} group received no bulk data: {r[receiver]}"
    return {"src": r["src"], "dst": r["dst"], "errors": r["errors"]}
