"""Shared helpers of the health suite (discovery only takes `test_*.py`, so this is no test).

LNet health (LNet 2.12 and later): every message that completes with an error reports a
*health status*. A local status (``local_interrupt``, ``local_dropped``, ``local_aborted``,
``local_no_route``, ``local_timeout``, ``local_error``) lowers the sending NI's health value
by ``health_sensitivity`` (100 of 1000) and puts the NI on the local recovery queue; a
remote status (``remote_dropped``, ``remote_error``, ``remote_timeout``) lowers the peer
NI's health, but only when the peer has more than one NI (or is a router);
``network_timeout`` does both. A message whose status allows it (the five local ones above
and ``remote_dropped``) is sent again, up to ``retry_count`` times, but only when there is
another path: the sender has two NIs or more for a local status, the peer for a remote one
(lnet/lnet/lib-msg.c, lnet_health_check). ``lnetctl stats show`` counts the resends
(resend_count, failed_resends, successful_resends) and the statuses (``<status>_count``);
``net show -v 2`` and ``peer show -v 2`` give each NI's and peer NI's health value.

The tests simulate the statuses with drop rules that carry one
(``faults.drop(..., health=STATUS)``): LNet matches such a rule when the LND finishes
sending a message (socklnd's ksocknal_process_transmit), fails the message with that status
and lets health handle it, so a ping fails at once, without waiting for a timeout. A rule
without a status drops messages as they arrive instead.

Topologies (the LNet VMs: 2 NICs a guest, each NIC on a subnet of its own):

- SR: client and server with one NI each, tcp on the first interface;
- MR: client and server with two NIs each, tcp on both interfaces (the guests route a
  cross pair by IP, see suites/udsp/common.py);
- routed (test 15): client (tcp on both interfaces) -- router (tcp + tcp1) -- server (tcp1).

Timeouts. ``transaction_timeout`` is 10 s instead of LNet's 150 s, as sanity-lnet's health
tests set it: a ping that no rule answers (a peer whose LNet is down, a recovery ping into
a receive-side drop) then fails in seconds. It stays 10 s, not less: LNet only resends a
message before its deadline (send time + transaction_timeout), and a resend goes through
the monitor thread, whose round is 1 s, on guests whose CPU is emulated. ``retry_count``
stays LNet's default of 2 in the resend tests, so that "resends equal retry_count" is tested
with a value where 1 and 2 differ.

Fault rules never outlive a test. Each test that adds one declares `no_rules_left` as a
cleanup on every role: it runs whatever happened before (a failed or timed-out step
included), removes every drop and delay rule with ``faults.clear()`` (``lnetctl fault drop|
delay del --all``), puts every NI's and peer NI's health back to 1000, and FAILs if
``lctl net_drop_list`` or ``net_delay_list`` still lists a rule. The toolkit does the same
after it (``lutf.logs`` runs ``faults.clear()`` on every node of a test, FAIL or not), and
``lnetctl lnet unconfigure`` (``lutf.undo`` and the next test's ``lutf.clean``) drops every
rule as well (lnet_fault_fini). Every test starts by checking that its nodes have no rule
(`fresh`, in its first step), and test 16 shows each of those removals at work on every kind of rule.

LNet bugs met on 2.17.57: none that a test here leaves out (ALWAYS_EXCEPT is empty).
Things worth knowing, which the tests account for:

- ``lnet_ping_at_least_two_entries()`` (include/linux/lnet/lib-types.h) returns true when
  the ping buffer holds *at most* two entries (lo and one NI): its name says the opposite
  of what it computes, but lnet_health_check uses it as "single interface", which is right.
- ``health_sensitivity 0`` turns resends off as well: sensitivity_set (api-ni.c) sets
  retry_count to 0 when the sensitivity becomes 0, and retry_count cannot be raised while
  it is 0 (EINVAL, "Can not set lnet_retry_count when health feature is turned off"). Tests
  11-13 use sensitivity 0 to freeze health values; test 08, which needs resends, does not.
- How a peer learns an NI's status (test 15; LNet 2.17.57 source). The status is a word of
  the ping buffer, rewritten in place (lnet_ni_set_status, lib-lnet.h: no push, no sequence
  change): ``net set --health 0`` sets it down, and the NI's health reaching 1000 again
  sets it up (lnet_inc_ni_healthv). A peer copies it when it merges the NI's owner's ping
  data after a discovery (lnet_peer_merge_data -> handle_disc_lpni_health, peer.c); ``peer
  show``'s ``state`` is that copy (lpni_ns_status, lnet_is_peer_ni_alive). Two things undo
  a `down` that nothing in the ping data undoes:
  (1) the peer marks a peer NI up whenever a message from it arrives (lnet_parse,
  lib-move.c: "mark the status of this lpni as UP since we received a message from it"),
  and a `down` merged puts the NI on the peer's recovery queue (handle_disc_lpni_health ->
  lnet_handle_remote_failure_locked), whose ping a second later (lnet_get_next_recovery_ping:
  1 << ping_count s) the NI answers if it still can send;
  (2) on the NI's own node, every message sent or received on it that completes OK raises
  its health by health_sensitivity (lnet_health_check, lib-msg.c, LNET_MSG_STATUS_OK ->
  lnet_inc_ni_healthv), so ten of them (the router's pings arriving on it) bring it back
  to 1000 and `up`. sanity-lnet 236's rule (nid1 -> nid1 GETs only) stops neither: the
  router's view of nid1 was `down` about a second after a merge at most, or never (the full
  run 20261207-140254-0e60a66c: `up` 90 s on; a scratch run, 20261207-173238-4c795fef: 8
  forced discoveries, the router's state sampled every 0.2-1 s for 5 s after each: `up`
  every time, no "status changed" line in its D_NET log; the client's own net show, a
  second or two after ``--health 0``, already gave nid1 health 300). LNet behaves as written (an NI
  that answers is alive), so this is no LNet bug: test 15 keeps nid1 really down (rules
  from nid1 to every NID: it sends nothing) and then the router's `down` holds.
- ``lutf.lnet.discover(nid, force=True)`` and ``lnetctl discover --force`` do the same:
  lnetctl asks over netlink (NLM_F_EXCL for --force) and falls back to the ioctl
  (IOC_LIBCFS_DISCOVER, op_param) that liblnetconfig's lustre_lnet_discover_nid uses; both
  end in lnet_discover(force), which sets FORCE_PING and FORCE_PUSH. They seemed to differ
  (the router's state `up` after the one, `down` after the other) because of (1) and (2)
  above: what ``peer show`` gives depends on when it is read. In the scratch run above both
  forced a fresh ping each time (a "data present" line per call).
- A drop rule with a health status also matches the recovery pings LNet sends to bring an
  NI back (GETs on the ping portal): the tests add rules from each local NID to each peer
  NID and to each local NID, as sanity-lnet does, so that recovery cannot raise a health
  value between the ping and the reading.
"""
import time

import lutf
from lutf import faults, lnet, skip

#: Tests LNet is known to get wrong, as sanity-lnet.sh's ALWAYS_EXCEPT: "test_NN" -> the
#: LU ticket. Empty: see the module's docstring.
ALWAYS_EXCEPT = {}

#: LNet's best health value.
MAX_HEALTH = 1000

#: Local statuses LNet resends on (when the sender has another NI), and the one it never
#: resends on (lib-msg.c, lnet_health_check).
LOCAL_RESEND = ["local_interrupt", "local_dropped", "local_aborted", "local_no_route",
                "local_timeout"]
LOCAL_NO_RESEND = ["local_error"]
#: Remote statuses: resent (when the peer has another NI), and never resent.
REMOTE_RESEND = ["remote_dropped"]
REMOTE_NO_RESEND = ["remote_error", "remote_timeout"]

#: Seconds a transaction may take (LNet's default is 150): see the module's docstring.
TRANSACTION_TIMEOUT = 10
#: Resends of a failed message (LNet's default).
RETRY_COUNT = 2
#: The lnetctl globals of every health test.
GLOBALS = {"transaction_timeout": TRANSACTION_TIMEOUT, "retry_count": RETRY_COUNT}

SR = {"tcp": [0]}
MR = {"tcp": [0, 1]}

#: lnet module options of the routed test: router checks every 5 s with a 5 s ping timeout
#: (sanity-lnet's router settings), so that routes come up in seconds.
FAST_CHECKS = {"alive_router_check_interval": 5, "router_ping_timeout": 5}


def always_except(ctx):
    """SKIP the test when LNet is known to get it wrong, naming the ticket."""
    ticket = ALWAYS_EXCEPT.get(ctx.test.rsplit("/", 1)[-1])
    if ticket:
        skip(f"always_except: LNet bug {ticket}")


# -- reading LNet ----------------------------------------------------------------------------


def local_nis():
    """nid -> {"health", "status", "ping_count", ...} of this node's NIs but lo
    (``lnetctl net show -v 2``)."""
    shown = lnet.lnetctl("net", "show", "-v", "2")["output"] or {}
    out = {}
    for net in shown.get("net") or []:
        for ni in net.get("local NI(s)") or []:
            nid = ni.get("nid")
            if not nid or nid == "0@lo":
                continue
            out[nid] = _ni_entry(ni, "status")
    return out


def _ni_entry(ni, state_key):
    hs = ni.get("health stats") or {}
    entry = {k: v for k, v in hs.items() if isinstance(v, int) and not isinstance(v, bool)}
    entry["health"] = int(hs.get("health value", lnet.find(ni, "health value")))
    entry[state_key] = str(ni.get(state_key)).lower()
    return entry


def peer_nis(nid=None):
    """peer NI nid -> {"health", "state", "ping_count", ...} (``lnetctl peer show -v 2``,
    of the peer holding `nid` only when given)."""
    argv = ["peer", "show", "-v", "2"] + (["--nid", nid] if nid else [])
    shown = lnet.lnetctl(*argv)["output"] or {}
    out = {}
    for peer in shown.get("peer") or []:
        for ni in peer.get("peer ni") or peer.get("peer_ni") or []:
            if ni.get("nid"):
                out[ni["nid"]] = _ni_entry(ni, "state")
    return out


def counters():
    """``lnetctl stats show``'s counters: {name: n}."""
    shown = lnet.lnetctl("stats", "show")["output"] or {}
    return {k: v for k, v in (shown.get("statistics") or {}).items()
            if isinstance(v, int) and not isinstance(v, bool)}


def global_value(name):
    """A global setting as ``lnetctl global show`` gives it."""
    shown = lnet.lnetctl("global", "show")["output"] or {}
    value = lnet.find(shown, name)
    assert value is not None, f"global show has no {name}: {shown}"
    return int(value)


def view(peer=None):
    """What the health tests compare: {"local": {nid: health}, "remote": {nid: health},
    "counters": stats show}; `peer` limits "remote" to that peer's NIs."""
    return {"local": {n: e["health"] for n, e in local_nis().items()},
            "remote": {n: e["health"] for n, e in peer_nis(peer).items()},
            "counters": counters()}


def change(before, after):
    """Counter deltas and health sums of two `view`s:
    {"resends", "failed_resends", "successful_resends", "<status>_count"..., "local": (sum
    before, sum after), "remote": (...)}."""
    c0, c1 = before["counters"], after["counters"]
    out = {k: c1.get(k, 0) - c0.get(k, 0) for k in c1}
    out["resends"] = out.get("resend_count", 0)
    out["local"] = (sum(before["local"].values()), sum(after["local"].values()))
    out["remote"] = (sum(before["remote"].values()), sum(after["remote"].values()))
    return out


def in_recovery(queue):
    """The NIDs on this node's local (``queue="local"``) or peer recovery queue
    (``lnetctl debug recovery --local|--peer``)."""
    shown = lnet.lnetctl("debug", "recovery", f"--{queue}")["output"] or {}
    return sorted(set(_nids_in(shown)))


def _nids_in(value):
    if isinstance(value, str):
        return [value] if "@" in value else []
    if isinstance(value, dict):
        return [n for v in value.values() for n in _nids_in(v)]
    if isinstance(value, list):
        return [n for v in value for n in _nids_in(v)]
    return []


def wait_for(what, get, want, timeout=60, interval=1):
    """Polls `get()` until `want(value)` is true (the toolkit's `lutf.wait_for`, polled each
    second: health and recovery move on LNet's one-second timers). Returns the value."""
    return lutf.wait_for(what, get, want, timeout=timeout, interval=interval)


# -- acting ----------------------------------------------------------------------------------


def discover(nid):
    """Discovers the peer at `nid`, so that discovery's own messages stay out of what a test
    counts; returns the peer's NIDs."""
    reply = lnet.discover(nid)
    return sorted(ni["nid"] for p in reply.get("discover") or []
                  for ni in p.get("peer_ni") or p.get("peer ni") or [])


def ping_fails(nid, timeout=TRANSACTION_TIMEOUT, source=None):
    """An LNet ping of `nid` fails; returns (the error's description, seconds it took)."""
    t = time.monotonic()
    try:
        lnet.ping(nid, timeout=timeout, source=source)
    except lnet.LnetError as e:
        return e.description, round(time.monotonic() - t, 1)
    raise AssertionError(f"ping {nid} was answered, expected it to fail")


def health_rules(status, src, dst, rate=1, message="get"):
    """Drop rules reporting `status`: from each NID of `src` to each NID of `dst`, one
    message in `rate` (1: all), GETs only by default (a ping is a GET). Returns how many."""
    n = 0
    for s in src:
        for d in dst:
            faults.drop(src=s, dst=d, rate=rate, message=message, health=status)
            n += 1
    return n


def rules_count():
    """Drop and delay rules on this node now."""
    listed = faults.list()
    return len(listed["drop"]) + len(listed["delay"])


def set_health(kind, value, nid=None):
    """``lnetctl net|peer set --health VALUE --nid NID`` (``--all`` without `nid`)."""
    target = ["--nid", nid] if nid else ["--all"]
    lnet.lnetctl(kind, "set", "--health", value, *target)


def reset_health():
    """Every NI and peer NI of this node back to health 1000."""
    set_health("net", MAX_HEALTH)
    if peer_nis():
        set_health("peer", MAX_HEALTH)


def status_round(ctx, status, peer_nid, peer_nids, expect_ping="fails"):
    """One status simulated from this node: rules from each local NID to each of
    `peer_nids` and each local NID (so that recovery pings fail too), one ping of
    `peer_nid` (which must fail, or succeed for ``expect_ping="answered"``), the rules
    removed, health read before and after. Returns `change` plus the ping's outcome;
    health is put back to 1000 before returning."""
    mine = sorted(local_nis())
    before = view(peer_nid)
    health_rules(status, mine, list(peer_nids) + mine)
    try:
        if expect_ping == "fails":
            outcome = ping_fails(peer_nid)
        else:
            lnet.ping(peer_nid, timeout=TRANSACTION_TIMEOUT)
            outcome = "answered"
        after = view(peer_nid)
    finally:
        faults.clear()
    d = change(before, after)
    d["ping"] = outcome
    ctx.log(f"{status}: {d}")
    reset_health()
    return d


# -- the test's frame ------------------------------------------------------------------------


def fresh(ctx):
    """Start of a test's first step: the test is not excepted, and this node has no fault
    rule (one left by an earlier test would be a leak)."""
    always_except(ctx)
    n = rules_count()
    assert n == 0, f"{ctx.node.name} starts the test with {n} fault rule(s): {faults.list()}"
    return n


def no_rules_left(ctx):
    """Cleanup, on every role: every fault rule removed and none listed after, health back
    to 1000 (whatever the test's steps did or did not do)."""
    import os
    if not os.path.isdir("/sys/module/lnet"):
        return {"lnet": "not loaded: no rule can be left"}
    cleared = faults.clear()
    left = faults.list()
    try:
        reset_health()
    except lnet.LnetError as e:
        ctx.log(f"health not reset: {e}")
    assert not left["drop"] and not left["delay"], \
        f"rules left on {ctx.node.name} after faults.clear(): {left}"
    return {"cleared": sorted(cleared), "failed": ctx.failed}


def begin(test):
    """Declares `no_rules_left` as a cleanup on every role of `test`."""
    test.cleanup(role=test.roles, timeout=180)(no_rules_left)
