"""`lutf.stats`: LNet's counters and health on this node, and the change between two moments.

::

    from lutf import stats

    before = stats.snapshot()
    ...                                   # traffic, faults
    after = stats.snapshot()
    d = stats.delta(before, after)
    d["global"]["drop_count"]             # messages dropped meanwhile
    d["nis"]["10.0.0.1@tcp"]["send_count"]
    after["peer_nis"]["10.0.0.2@tcp"]["health"]       # the peer NI's health value now
    after["recovery"]["peer"]             # peer NIs in recovery
    stats.route_count()                   # messages this node forwarded (a router)

A snapshot is ``{"global": {counter: n}, "nis": {nid: {...}}, "peer_nis": {nid: {...}},
"recovery": {"local": [nids], "peer": [nids]}, "time": seconds}``. Per NI and peer NI:
``status``/``state``, ``health`` (the health value), ``send_count``, ``recv_count``,
``drop_count``, and the health counters (``dropped``, ``timeouts``, ``error``,
``network timeout``, ...) under their lnetctl names. `delta` subtracts every number and
keeps the rest as it is after.
"""

import time

from . import lnet as _lnet

__all__ = ["snapshot", "delta", "route_count", "parse_nis", "parse_peer_nis", "parse_global",
           "parse_recovery"]


def _numbers(d):
    return {k: v for k, v in (d or {}).items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _ni_entry(ni, state_key):
    out = {}
    if state_key in ni:
        out[state_key] = ni[state_key]
    out.update(_numbers(ni.get("statistics")))
    health = ni.get("health stats") or {}
    out.update(_numbers(health))
    if "health value" in health:
        out["health"] = health["health value"]
    for k in ("health value",):
        out.pop(k, None)
    return out


def parse_nis(shown):
    """nid -> counters and health, from ``lnetctl net show -v 3`` (as the helper reads it)."""
    out = {}
    for net in (shown or {}).get("net") or []:
        for ni in net.get("local NI(s)") or []:
            if ni.get("nid"):
                out[ni["nid"]] = _ni_entry(ni, "status")
    return out


def parse_peer_nis(shown):
    """peer NI nid -> counters, credits and health, from ``lnetctl peer show -v 3``."""
    out = {}
    for peer in (shown or {}).get("peer") or []:
        for ni in peer.get("peer ni") or peer.get("peer_ni") or []:
            if not ni.get("nid"):
                continue
            entry = _ni_entry(ni, "state")
            entry.update({k: v for k, v in _numbers(ni).items() if k not in entry})
            entry["primary"] = peer.get("primary nid")
            out[ni["nid"]] = entry
    return out


def parse_global(shown):
    """counter -> value, from ``lnetctl stats show``."""
    return _numbers((shown or {}).get("statistics"))


def _nids_in(value):
    if isinstance(value, str):
        return [value] if "@" in value else []
    if isinstance(value, dict):
        return [n for v in value.values() for n in _nids_in(v)]
    if isinstance(value, list):
        return [n for v in value for n in _nids_in(v)]
    return []


def parse_recovery(shown):
    """The NIDs in a ``lnetctl debug recovery`` answer."""
    return _nids_in(shown or {})


def _show(*argv):
    return _lnet.lnetctl(*argv)["output"] or {}


def snapshot():
    """LNet's counters, health and recovery queues on this node now (see the module)."""
    return {
        "time": time.time(),
        "global": parse_global(_show("stats", "show")),
        "nis": parse_nis(_show("net", "show", "-v", "3")),
        "peer_nis": parse_peer_nis(_show("peer", "show", "-v", "3")),
        "recovery": {
            "local": parse_recovery(_show("debug", "recovery", "--local")),
            "peer": parse_recovery(_show("debug", "recovery", "--peer")),
        },
    }


def _diff(before, after):
    if isinstance(after, dict):
        before = before if isinstance(before, dict) else {}
        return {k: _diff(before.get(k), v) for k, v in after.items()}
    if isinstance(after, (int, float)) and not isinstance(after, bool):
        if isinstance(before, (int, float)) and not isinstance(before, bool):
            return after - before
        return after
    return after


def delta(before, after):
    """`after` with every number minus the same number in `before` (a NI or peer NI new
    since `before` counts from 0); recovery queues are those of `after`."""
    out = _diff(before, after)
    out["recovery"] = after.get("recovery")
    out["seconds"] = after.get("time", 0) - before.get("time", 0)
    out.pop("time", None)
    return out


def route_count():
    """Messages this node has forwarded as a router (``lnetctl stats show``: route_count)."""
    return int(parse_global(_show("stats", "show")).get("route_count", 0))
