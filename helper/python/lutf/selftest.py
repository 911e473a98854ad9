"""`lutf.selftest`: one call runs lnet_selftest traffic between two groups and reads it.

::

    from lutf import selftest

    r = selftest.run(ctx, src=["client"], dst=["server"], test="brw", mode="write",
                     size="1M", concurrency=8, duration=10)
    assert r["src"]["bandwidth"]["write"] > 0
    assert r["errors"] == {"src": 0, "dst": 0}

`src` and `dst` are roles (all their NIDs, from ``ctx.nids``) or NIDs. ``test="ping"`` or
``"brw"`` (``mode`` ``"read"``/``"write"``, ``size`` like ``"4k"``/``"1M"``). Give
``duration`` (seconds of traffic, read every `interval` seconds) or ``count`` (each client
sends `count` requests; the call waits until the batch is idle). The answer::

    {"src": {"rates": {"read": RPC/s, "write": RPC/s},
             "bandwidth": {"read": MiB/s, "write": MiB/s}},
     "dst": {...}, "errors": {"src": error nodes, "dst": error nodes},
     "samples": [...every round lst printed...], "seconds": ...}

Averages are over the rounds read. The session always ends, also when the call fails.
lnet_selftest must be loaded on every node taking part: declare it in the test's LNet
(``modules={"lnet_selftest": {}}``).
"""

import time

from . import errors, lnet as _lnet

__all__ = ["run", "summarise", "resolve"]


def resolve(ctx, who):
    """NIDs for a list of roles and NIDs (a role gives all its NIDs)."""
    if isinstance(who, str):
        who = [who]
    out = []
    for w in who:
        if "@" in w:
            out.append(w)
        else:
            try:
                out.extend(ctx.nids[w])
            except KeyError:
                raise errors.Failed(f"selftest: {w!r} is neither a role of the test nor a NID") from None
    if not out:
        raise errors.Failed(f"selftest: no NID for {who}")
    return out


def summarise(stat, groups):
    """Averages per group ({"src": name, ...}) of an `lst stat` answer's samples."""
    out = {}
    for side, name in groups.items():
        sums = {"rates": {}, "bandwidth": {}}
        counts = {"rates": {}, "bandwidth": {}}
        for sample in stat.get("samples") or []:
            if sample.get("group") != name:
                continue
            for what in ("rates", "bandwidth"):
                for rw, v in (sample.get(what) or {}).items():
                    if isinstance(v, dict) and "avg" in v:
                        sums[what][rw] = sums[what].get(rw, 0.0) + float(v["avg"])
                        counts[what][rw] = counts[what].get(rw, 0) + 1
        out[side] = {what: {rw: round(sums[what][rw] / counts[what][rw], 3)
                            for rw in sums[what]} for what in sums}
    return out


def run(ctx, src, dst, test="brw", mode="write", size="1M", concurrency=None,
        duration=10, count=None, interval=2, distribute=None, check=None, name="lutf"):
    """Runs one selftest batch from `src` to `dst` (see the module) and returns its figures."""
    if test not in ("brw", "ping"):
        raise ValueError(f"test must be 'brw' or 'ping', got {test!r}")
    src_nids, dst_nids = resolve(ctx, src), resolve(ctx, dst)
    t0 = time.monotonic()
    with _lnet.Selftest(name) as lst:
        lst.add_group("lutf_src", *src_nids)
        lst.add_group("lutf_dst", *dst_nids)
        lst.add_batch("lutf_batch")
        brw = test == "brw"
        lst.add_test("lutf_batch", "lutf_src", "lutf_dst", test,
                     mode=mode if brw else None, size=size if brw else None,
                     check=check if brw else None, concurrency=concurrency,
                     distribute=distribute, loops=count)
        lst.run("lutf_batch")
        try:
            if count is None:
                rounds = max(1, int(round(duration / float(interval))))
                stat = lst.stat("lutf_src", "lutf_dst", count=rounds, delay=interval)
            else:
                samples = []
                while True:
                    stat = lst.stat("lutf_src", "lutf_dst", count=1, delay=interval)
                    samples.extend(stat.get("samples") or [])
                    state = lst.command("query", "lutf_batch")
                    if "is running" not in state:
                        break
                stat = {"samples": samples}
        finally:
            try:
                lst.stop("lutf_batch")
            except _lnet.LnetError as e:
                print(f"selftest: stopping the batch: {e}", flush=True)
        errors_by_group = lst.show_error("lutf_src", "lutf_dst")
    out = summarise(stat, {"src": "lutf_src", "dst": "lutf_dst"})
    out["errors"] = {"src": errors_by_group.get("lutf_src"),
                     "dst": errors_by_group.get("lutf_dst")}
    out["samples"] = stat.get("samples") or []
    out["seconds"] = round(time.monotonic() - t0, 3)
    return out
