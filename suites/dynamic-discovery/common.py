"""Shared by the dynamic-discovery tests: the peers, globals and discover replies LNet shows."""
from lutf import lnet

#: Two nodes, each with both of its first two interfaces on tcp: a multi-rail peer each.
MR_NETS = {"tcp": [0, 1]}


def peers():
    """primary NID -> {"mr": bool, "nids": [peer NI NIDs]}, from ``lnetctl peer show``."""
    shown = lnet.lnetctl("peer", "show")["output"] or {}
    out = {}
    for p in shown.get("peer") or []:
        nis = p.get("peer ni") or p.get("peer_ni") or []
        out[p.get("primary nid")] = {
            "mr": str(p.get("Multi-Rail")).lower() == "true",
            "nids": sorted(ni["nid"] for ni in nis if ni.get("nid")),
        }
    return out


def reply_nids(reply, key):
    """The peer NIDs of a ``discover``/``ping`` reply (``key``), sorted."""
    entries = (reply or {}).get(key) or []
    assert len(entries) == 1, f"expected one {key} entry: {reply}"
    nis = entries[0].get("peer_ni") or entries[0].get("peer ni") or []
    return sorted(ni["nid"] for ni in nis)


def global_value(name):
    """One global setting as ``lnetctl global show`` prints it now."""
    shown = lnet.lnetctl("global", "show")["output"] or {}
    value = (shown.get("global") or {}).get(name)
    assert value is not None, f"global show has no {name}: {shown}"
    return value


def import_global(setting, value):
    """Applies ``global: SETTING: VALUE`` with ``lnetctl import``."""
    lnet.lnetctl("import", stdin=f"global:\n    {setting}: {int(value)}\n")


def consolidate(ctx, index):
    """Ping each of the peer's NIDs (one non-MR peer per NID), then discover NID `index`:
    LNet merges them into one multi-rail peer holding every NID. Returns what it saw."""
    mine = sorted(ctx.nids["peer"])
    assert len(mine) >= 2, f"the peer needs two NIDs: {mine}"
    for nid in mine:
        lnet.ping(nid, timeout=5)
    before = peers()
    ctx.log("after the pings:", before)
    for nid in mine:
        assert nid in before and before[nid]["nids"] == [nid] and not before[nid]["mr"], (
            f"after pinging {nid} it should be a peer of its own, non-MR: {before}")
    reply = lnet.discover(ctx.nids["peer"][index])
    got = reply_nids(reply, "discover")
    assert got == mine, f"discover {ctx.nids['peer'][index]} returned {got}, not {mine}"
    after = peers()
    ctx.log("after discover:", after)
    holding = [p for p, v in after.items() if set(v["nids"]) & set(mine)]
    assert len(holding) == 1, f"the peer's NIDs are in {len(holding)} peers: {after}"
    merged = after[holding[0]]
    assert merged["mr"] and merged["nids"] == mine, f"not one MR peer with {mine}: {after}"
    return {"primary": holding[0], "nids": merged["nids"]}
