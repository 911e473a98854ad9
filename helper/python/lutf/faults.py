"""`lutf.faults`: LNet fault injection — drop and delay rules between NIDs.

::

    from lutf import faults

    faults.drop(src="*@tcp", dst=ctx.nids["server"][0], rate=1)      # drop every message
    faults.drop(src=a, dst=b, interval=5, message="put", health="remote_dropped")
    faults.delay(src=a, dst=b, rate=2, latency=3)                      # delay 1 in 2 by 3 s
    faults.list()      # {"drop": [{"src", "dst", "rate", "interval", ...}], "delay": [...]}
    faults.clear()     # every rule removed

Rules are made with ``lnetctl fault drop|delay add`` (``lctl net_drop_add`` /
``net_delay_add`` where lnetctl has no ``fault`` command) on the node the step runs on,
and act on the messages that node sends or receives. Every test ends with every rule of
every node it used removed, whatever happened (the master runs `clear()` in the test's
last cleanup, also on FAIL and on interrupt).
"""

import re

from . import errors, lnet as _lnet, process

__all__ = ["drop", "delay", "list", "clear", "rule_args", "parse_rules", "HEALTH", "MESSAGES"]

#: The health statuses a dropped message can report (``--health_error``).
HEALTH = ("local_interrupt", "local_dropped", "local_aborted", "local_no_route",
          "local_error", "local_timeout", "remote_error", "remote_dropped",
          "remote_timeout", "network_timeout", "random")

#: Message types a rule can be limited to.
MESSAGES = ("put", "ack", "get", "reply")


def rule_args(kind, src, dst, rate=None, interval=None, message=None, health=None,
              latency=None, portal=None, local_nid=None):
    """The lnetctl arguments of a rule (``["fault", "drop", "add", ...]``), checked."""
    if kind not in ("drop", "delay"):
        raise ValueError(f"kind must be 'drop' or 'delay', got {kind!r}")
    if not src or not dst:
        raise ValueError("a rule needs a source and a destination (a NID, or *@net)")
    if (rate is None) == (interval is None):
        raise ValueError("give rate (1 in N messages) or interval (seconds), not both")
    argv = ["fault", kind, "add", "--source", str(src), "--dest", str(dst)]
    if rate is not None:
        argv += ["--rate", str(int(rate))]
    else:
        argv += ["--interval", str(int(interval))]
    if message is not None:
        if str(message).lower() not in MESSAGES:
            raise ValueError(f"message must be one of {', '.join(MESSAGES)}, got {message!r}")
        argv += ["--message", str(message).upper()]
    if portal is not None:
        argv += ["--portal", str(int(portal))]
    if kind == "drop":
        if latency is not None:
            raise ValueError("latency is for delay rules")
        if health is not None:
            if health not in HEALTH:
                raise ValueError(f"health must be one of {', '.join(HEALTH)}, got {health!r}")
            argv += ["--health_error", health]
        if local_nid is not None:
            argv += ["--local_nid", str(local_nid)]
    else:
        if health is not None:
            raise ValueError("health is for drop rules")
        argv += ["--latency", str(int(latency if latency is not None else 1))]
    return argv


def _lctl_args(argv):
    """The same rule for ``lctl net_drop_add`` / ``net_delay_add`` (older Lustre)."""
    kind = argv[1]
    opts = dict(zip(argv[3::2], argv[4::2]))
    short = {"--source": "-s", "--dest": "-d", "--rate": "-r", "--interval": "-i",
             "--message": "-m", "--portal": "-p", "--health_error": "-e", "--latency": "-l",
             "--local_nid": "-o"}
    out = [f"net_{kind}_add"]
    for k, v in opts.items():
        out += [short[k], v.lower() if k == "--message" else v]
    return out


def _add(argv):
    try:
        return _lnet.lnetctl(*argv)["output"]
    except _lnet.LnetError as e:
        text = str(e.detail or "") + str(e)
        if "fault" not in text or "command" not in text.lower():
            raise
    process.run(["lctl"] + _lctl_args(argv))
    return None


def drop(src, dst, rate=None, interval=None, message=None, health=None, portal=None,
         local_nid=None):
    """Adds a drop rule: messages from `src` to `dst` (NIDs, or ``*@net``), one in `rate`
    or one every `interval` seconds, of type `message` (put, ack, get, reply) only, reporting
    the health status `health` (see `HEALTH`)."""
    return _add(rule_args("drop", src, dst, rate=rate, interval=interval, message=message,
                          health=health, portal=portal, local_nid=local_nid))


def delay(src, dst, rate=None, interval=None, latency=1, message=None, portal=None):
    """Adds a delay rule: messages from `src` to `dst` delayed by `latency` seconds."""
    return _add(rule_args("delay", src, dst, rate=rate, interval=interval, message=message,
                          latency=latency, portal=portal))


_RULE = re.compile(
    r"^(?P<src>\S+)->(?P<dst>\S+) \(1/(?P<rate>\d+) \| (?P<interval>\d+)"
    r"(?:, latency (?P<latency>\d+))?\) ptl (?P<portal>\S+), msg (?P<mask>\S+), "
    r"(?P<dropped>\d+)/(?P<total>\d+), PUT (?P<put>\d+), ACK (?P<ack>\d+), "
    r"GET (?P<get>\d+), REP (?P<reply>\d+)"
)


def parse_rules(text):
    """The rules of ``lctl net_drop_list`` / ``net_delay_list`` output: ``[{"src", "dst",
    "rate", "interval", "latency" (delay rules), "portal", "mask", "dropped", "total",
    "put", "ack", "get", "reply"}]``. lctl prints a placeholder line when there is no
    rule; ``found total N`` says how many lines are rules."""
    rules, total = [], None
    for line in text.splitlines():
        line = line.strip()
        m = _RULE.match(line)
        if m:
            rule = {k: v for k, v in m.groupdict().items() if v is not None}
            for k in ("rate", "interval", "latency", "dropped", "total", "put", "ack", "get",
                      "reply"):
                if k in rule:
                    rule[k] = int(rule[k])
            rules.append(rule)
        elif line.startswith("found total "):
            total = int(line.split()[-1])
    return rules[:total] if total is not None else rules


def list():  # noqa: A001 - the name readers expect; shadows the builtin in this module only
    """The rules on this node: ``{"drop": [rule, ...], "delay": [...]}`` (see
    `parse_rules`). Read with ``lctl net_drop_list``: ``lnetctl fault drop show`` aborts on
    Lustre 2.17 ("double free or corruption")."""
    out = {}
    for kind in ("drop", "delay"):
        # lctl exits 22 after listing: its output says how it went.
        r = process.run(["lctl", f"net_{kind}_list"], check=False, quiet=True)
        text = r.stdout + "\n" + r.stderr
        if "found total" not in text:
            raise errors.Failed(f"`lctl net_{kind}_list` failed: {text.strip()[-300:]}")
        out[kind] = parse_rules(text)
    return out


def clear():
    """Removes every drop and delay rule on this node; returns how lnetctl answered."""
    out = {}
    for kind in ("drop", "delay"):
        try:
            out[kind] = _lnet.lnetctl("fault", kind, "del", "--all")["output"]
        except _lnet.LnetError as e:
            if e.kind in _lnet.ABSENT:
                return out
            # `del --all` with no rule answers ENOENT: nothing to remove is not a failure.
            if e.errno == -2 or "Object not found" in str(e):
                out[kind] = []
                continue
            raise errors.Failed(f"removing the {kind} rules failed: {e}") from None
    return out
