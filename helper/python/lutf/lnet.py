"""`lutf.lnet`: LNet from a test step — liblnetconfig calls, lnetctl, and lnet_selftest.

Every function asks the `lutf-helper` running the step (on this node) to do the work and
returns what it answers as plain dicts and lists::

    from lutf import lnet

    nets = lnet.show_net(detail=1)          # {"net": [{"net type": "lo", ...}, ...]}
    lnet.add_ni("tcp", ["eth0"])
    reply = lnet.ping("10.0.0.2@tcp")       # {"ping": [{"primary nid": ..., ...}]}
    out = lnet.lnetctl("peer", "show")      # {"output": {...}, "exit_code": 0, ...}

A failure raises `LnetError`, whose ``kind`` says what went wrong and, for failures LNet
itself reported, ``errno`` and ``description`` say which::

    try:
        lnet.add_ni("tcp", ["eth0"])
    except lnet.LnetError as e:
        assert e.errno == -17, e            # EEXIST: the NI is there already

``lnet.require()`` SKIPs the test, with the node's reason, where Lustre or LNet is absent.

Why through the helper and not lnetctl directly: the helper reads lnetctl's YAML (the
standard library has no YAML parser), calls liblnetconfig (through its companion) with
typed, checked arguments, keeps the lst session key between calls, and gives the same
errors as `lutf lnet` on the command line. It answers in JSON.
"""

import json
import os

from . import errors, process

__all__ = [
    "LnetError",
    "require",
    "call",
    "configure",
    "unconfigure",
    "add_ni",
    "del_ni",
    "show_net",
    "add_route",
    "del_route",
    "show_route",
    "set_routing",
    "set_buffers",
    "show_routing",
    "add_peer",
    "del_peer",
    "show_peer",
    "list_peers",
    "ping",
    "discover",
    "set_discovery",
    "set_global",
    "show_global",
    "show_stats",
    "reset_stats",
    "add_udsp",
    "del_udsp",
    "show_udsp",
    "yaml_config",
    "yaml_del",
    "yaml_show",
    "yaml_exec",
    "lnetctl",
    "backup",
    "find",
    "refused",
    "Selftest",
]

#: The kinds of failure that mean "LNet cannot be used here", for which `require()` SKIPs.
ABSENT = ("no_lustre", "lnet_not_loaded", "unknown_version")

#: ENETDOWN, LNet's answer to a show on a node where it is loaded but not configured.
NOT_CONFIGURED = -100


class LnetError(Exception):
    """An LNet operation failed on this node.

    - ``kind``: ``"lnet"`` when liblnetconfig, lnetctl or lst reported the failure;
      ``"no_lustre"`` (no liblnetconfig, lnetctl or lst), ``"lnet_not_loaded"`` (the module
      is not loaded), ``"unknown_version"`` (a Lustre version lutf cannot call),
      ``"unavailable"``, ``"bad_args"``, ... otherwise.
    - ``errno``: the errno LNet reported, negative as LNet reports it (``-17``), or None.
    - ``description``: what LNet said (``"cannot add LNet NI"``), or the message.
    - ``message``: the whole sentence, naming the node; ``detail``: more (a tool's output).
    - ``op``, ``command``, ``entity``, ``rc``, ``tree``: the call, the error tree's command
      and entity, the return or exit code, and the whole error tree, when known.
    """

    def __init__(self, kind, message, errno=None, description=None, detail=None, op=None,
                 command=None, entity=None, rc=None, tree=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.errno = errno
        self.description = description if description is not None else message
        self.detail = detail
        self.op = op
        self.command = command
        self.entity = entity
        self.rc = rc
        self.tree = tree

    def __str__(self):
        return self.message


LnetError.__module__ = "lutf.lnet"


def _helper_argv():
    helper = os.environ.get("LUTF_HELPER")
    if not helper:
        raise LnetError(
            "unavailable",
            "lutf.lnet works inside a lutf test step: LUTF_HELPER (the helper to ask) is not set",
        )
    argv = [helper, "--json"]
    workdir = os.environ.get("LUTF_WORKDIR")
    if workdir:
        argv += ["--workdir", workdir]
    return argv


def _ask(op, args, quiet=False):
    """Sends one request to the helper; returns its result or raises `LnetError`."""
    request = json.dumps({"version": 1, "op": op, "args": args})
    if not quiet:
        shown = " ".join(f"{k}={v!r}" for k, v in sorted(args.items()) if k not in ("yaml",))
        print(f"lnet: {op} {shown}", flush=True)
    out = process.run(_helper_argv(), input=request, check=False, quiet=True)
    try:
        reply = json.loads(out.stdout)
    except ValueError:
        raise LnetError(
            "internal",
            f"lutf-helper gave no reply to `{op}` (exit {out.returncode})",
            detail=out.stderr.strip() or None,
        ) from None
    if "error" in reply:
        e = reply["error"]
        failure = e.get("lnet") or {}
        raise LnetError(
            e.get("kind", "internal"),
            e.get("message", "unknown error"),
            errno=failure.get("errno"),
            description=failure.get("description"),
            detail=e.get("detail"),
            op=failure.get("op"),
            command=failure.get("command"),
            entity=failure.get("entity"),
            rc=failure.get("rc"),
            tree=failure.get("tree"),
        )
    return reply.get("ok")


def _args(**kwargs):
    """The arguments that were given (None means "not given": the helper's default)."""
    return {k: v for k, v in kwargs.items() if v is not None}


def call(name, abi=None, library=None, **args):
    """Makes the liblnetconfig call `name` (``"show_net"``, ``"add_ni"``, ...) with `args`.

    Returns the whole answer: ``{"abi": "2.17+", "lustre_version": ..., "result": ...}``.
    `abi` forces the library's ABI (``"2.16"``); `library` loads another file than
    ``liblnetconfig.so.4``. The functions below are this with the arguments spelled out.
    """
    request = dict(_args(**args), call=name)
    request.update(_args(abi=abi, library=library))
    return _ask("lnet", request)


def _result(name, **args):
    return call(name, **args)["result"]


def require():
    """The node's networks (as `show_net()`), or SKIP the test with the reason LNet cannot
    be used here: Lustre not installed, LNet not loaded or not configured, or a Lustre
    version lutf cannot call. Other failures raise `LnetError`."""
    try:
        return show_net()
    except LnetError as e:
        if e.kind in ABSENT:
            raise errors.Skipped(e.message) from None
        if e.kind == "lnet" and e.errno == NOT_CONFIGURED:
            raise errors.Skipped(
                "LNet is loaded but not configured on {} (lnetctl lnet configure)".format(
                    _hostname()
                )
            ) from None
        raise


def configure(all=False):
    """Brings LNet up (``lnetctl lnet configure [--all]``)."""
    return _result("configure", all=all)


def unconfigure():
    """Takes LNet down (``lnetctl lnet unconfigure``)."""
    return _result("unconfigure")


def add_ni(net, interfaces=(), ip2net=None, cpts=None, tunables=None, lnd_tunables=None):
    """Adds an NI (``lnetctl net add``): ``add_ni("tcp", ["eth0"])``.

    `cpts` is a CPT set as lnetctl takes it (``"[0,1]"``); `tunables` a dict of
    ``peer_timeout``, ``peer_credits``, ``peer_buffer_credits``, ``credits``; `lnd_tunables`
    a dict of ``conns_per_peer``, ``tos``, ``auth_key``, ``traffic_class``.
    """
    return _result(
        "add_ni",
        net=net,
        interfaces=list(interfaces),
        ip2net=ip2net,
        cpts=cpts,
        tunables=tunables,
        lnd_tunables=lnd_tunables,
    )


def del_ni(net, interfaces=()):
    """Deletes the NIs of `net` (only those on `interfaces` when given)."""
    return _result("del_ni", net=net, interfaces=list(interfaces))


def show_net(net=None, detail=0):
    """The networks (``lnetctl net show [--net NET] -v DETAIL``), detail 0 to 4."""
    return _result("show_net", net=net, detail=detail)


def add_route(net, gateway, hops=None, priority=None, health_sensitivity=None):
    """Adds a route to `net` through `gateway` (``lnetctl route add``)."""
    return _result("add_route", net=net, gateway=gateway, hops=hops, priority=priority,
                   health_sensitivity=health_sensitivity)


def del_route(net, gateway):
    """Deletes a route (``lnetctl route del``)."""
    return _result("del_route", net=net, gateway=gateway)


def show_route(net=None, gateway=None, hops=None, priority=None, detail=False):
    """The routes matching every filter given (``lnetctl route show``)."""
    return _result("show_route", net=net, gateway=gateway, hops=hops, priority=priority,
                   detail=detail)


def set_routing(enable):
    """Turns routing on or off (``lnetctl set routing 1|0``)."""
    return _result("set_routing", enable=bool(enable))


def set_buffers(tiny=None, small=None, large=None):
    """Sets router buffers; 0 restores a default (``lnetctl set tiny_buffers ...``)."""
    return _result("set_buffers", tiny=tiny, small=small, large=large)


def show_routing():
    """Router buffers and whether routing is on (``lnetctl routing show``)."""
    return _result("show_routing")


def add_peer(nids=(), primary=None, multi_rail=True, lock_primary=False):
    """Adds a peer (``lnetctl peer add``): ``add_peer(["10.0.0.2@tcp"])``."""
    return _result("add_peer", nids=list(nids), primary=primary, multi_rail=multi_rail,
                   lock_primary=lock_primary)


def del_peer(primary, nids=(), force=False):
    """Deletes a peer, or only `nids` of it (``lnetctl peer del``)."""
    return _result("del_peer", primary=primary, nids=list(nids), force=force)


def show_peer(nid=None, detail=0):
    """The peers (``lnetctl peer show [--nid NID] -v DETAIL``)."""
    return _result("show_peer", nid=nid, detail=detail)


def list_peers():
    """The peers' primary NIDs (``lnetctl peer list``)."""
    return _result("list_peers")


def ping(nid, source=None, timeout=None):
    """Pings `nid` (``lnetctl ping``); `timeout` in seconds (default 1)."""
    return _result("ping", nid=nid, source=source, timeout=timeout)


def discover(nid, force=False):
    """Discovers the peer at `nid` (``lnetctl discover``)."""
    return _result("discover", nid=nid, force=force)


def set_discovery(enable):
    """Turns peer discovery on or off (``lnetctl set discovery 1|0``)."""
    return set_global("discovery", 1 if enable else 0)


def set_global(setting, value):
    """Changes a global setting (``lnetctl set SETTING VALUE``): ``set_global("retry_count", 2)``."""
    return _result("set_global", setting=setting, value=int(value))


def show_global(setting=None):
    """The global settings, or one of them: ``{"global": {"retry_count": 2, ...}}``."""
    return _result("show_global", setting=setting)


def show_stats():
    """LNet's counters (``lnetctl stats show``)."""
    return _result("show_stats")


def reset_stats():
    """Resets LNet's counters (``lnetctl stats reset``)."""
    return _result("reset_stats")


def add_udsp(src=None, dst=None, rte=None, priority=None, idx=None):
    """Adds a selection policy rule (``lnetctl udsp add``). With a `priority` the rule
    ranks what it matches (0 is the best); without one it is a preference, as lnetctl makes
    it: `src` and `dst` together pair local NIDs with peer NIDs, `dst` and `rte` peer NIDs
    with routers, and `src` or `dst` alone get priority 0."""
    return _result("add_udsp", src=src, dst=dst, rte=rte, priority=priority, idx=idx)


def del_udsp(idx=None):
    """Deletes a selection policy rule, or all of them (``lnetctl udsp del``)."""
    return _result("del_udsp", idx=idx)


def show_udsp(idx=None):
    """The selection policy rules (``lnetctl udsp show``)."""
    return _result("show_udsp", idx=idx)


def yaml_config(yaml):
    """Configures what the YAML text describes (``lnetctl import``)."""
    return _result("yaml_config", yaml=yaml)


def yaml_del(yaml):
    """Removes what the YAML text describes (``lnetctl import --del``)."""
    return _result("yaml_del", yaml=yaml)


def yaml_show(yaml):
    """Shows what the YAML text names (``lnetctl import --show``)."""
    return _result("yaml_show", yaml=yaml)


def yaml_exec(yaml):
    """Runs the commands the YAML text holds (``lnetctl import --exec``)."""
    return _result("yaml_exec", yaml=yaml)


def lnetctl(*args, check=True, timeout=None, stdin=None):
    """Runs ``lnetctl ARGS...`` on this node and returns what it printed, read::

        {"output": {...everything it printed as YAML...}, "errors": [...],
         "exit_code": 0, "diagnostics": [...], "text": "...", "command": [...]}

    A non-zero exit raises `LnetError` (``errno`` from the error lnetctl printed) unless
    `check` is False. `stdin` is text for its stdin; `timeout` in seconds (default 120).
    """
    return _ask("lnetctl", _args(argv=[str(a) for a in args], check=check, timeout=timeout,
                                 stdin=stdin))


def find(tree, key):
    """The first value of `key` anywhere in `tree` (the dicts and lists a show or lnetctl
    returns, depth first), or None: for a value whose place in the tree differs between
    LNet versions or between the library and lnetctl."""
    if isinstance(tree, dict):
        if key in tree:
            return tree[key]
        tree = list(tree.values())
    if isinstance(tree, list):
        for item in tree:
            found = find(item, key)
            if found is not None:
                return found
    return None


def backup(exported=None):
    """The whole configuration as ``lnetctl export --backup`` gives it (or as `exported`
    holds it), peers (and each peer's NIs) and routes in a fixed order: LNet lists peers in
    hash order, so two backups of one configuration compare equal only once sorted."""
    out = dict(exported if exported is not None else lnetctl("export", "--backup")["output"]
               or {})
    if out.get("peer"):
        out["peer"] = sorted(
            ({**p, "peer ni": sorted(p["peer ni"], key=lambda n: str(n.get("nid")))}
             if p.get("peer ni") else p for p in out["peer"]),
            key=lambda p: str(p.get("primary nid")))
    if out.get("route"):
        out["route"] = sorted(out["route"],
                              key=lambda r: (str(r.get("net")), str(r.get("gateway"))))
    return out


def refused(errno, what, fn, *args, state=backup, **kwargs):
    """Calls ``fn(*args, **kwargs)``, which LNet itself must refuse with `errno` (negative,
    as LNet gives it: ``-errno.EEXIST``), and checks that ``state()`` (by default the whole
    configuration, `backup`) is the same after as before. Returns LNet's description of
    the failure; FAILs naming `what` if it succeeded, failed otherwise or changed the state::

        lnet.refused(-17, "the same NI twice", lnet.add_ni, "tcp", ["eth0"])
    """
    before = state()
    try:
        fn(*args, **kwargs)
    except LnetError as e:
        assert e.kind == "lnet", f"{what}: not refused by LNet but {e.kind}: {e}"
        assert e.errno == errno, f"{what}: errno {e.errno} ({e.description}), expected {errno}"
        after = state()
        assert after == before, f"{what} changed the configuration: {before} -> {after}"
        return e.description
    errors.fail(f"{what} succeeded; LNet should refuse it with errno {errno}")


class Selftest:
    """An lnet_selftest session on this node (``lst``), its key kept for you::

        with lnet.Selftest("check") as lst:
            lst.add_group("clients", "10.0.0.1@tcp")
            lst.add_group("servers", "10.0.0.2@tcp")
            lst.add_batch("bulk")
            lst.add_test("bulk", "clients", "servers", "brw", mode="write", size="1M")
            lst.run("bulk")
            stat = lst.stat("clients", "servers", count=2, delay=2)
            lst.stop("bulk")

    ``stat()`` returns ``{"samples": [{"group", "round", "rates": {"read": {"avg", "min",
    "max", "unit"}, "write": ...}, "bandwidth": ...}, ...], "other_lines": [...]}``. The
    session ends when the ``with`` block does (or call ``end()``). lnet_selftest must be
    loaded (``modprobe lnet_selftest``).
    """

    def __init__(self, name=None, timeout=None, force=False):
        self.name = name
        self.timeout = timeout
        self.force = force
        self.session = None

    def _do(self, action, **args):
        request = dict(_args(**args), action=action)
        if self.session is not None and action != "new_session":
            request["session"] = self.session
        return _ask("lst", request)

    def start(self):
        """Starts the session (``lst new_session``); returns what lst said of it."""
        reply = self._do("new_session", name=self.name, session_timeout=self.timeout,
                         force=self.force)
        self.session = reply["session"]
        return reply["result"]

    def end(self):
        """Ends the session (``lst end_session``)."""
        self._do("end_session")
        self.session = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        if self.session is not None:
            try:
                self.end()
            except LnetError as e:
                print(f"lnet: ending the lst session failed: {e}", flush=True)
        return False

    def add_group(self, name, *nids):
        """Adds a group of NIDs; returns the NIDs lst added."""
        return self._do("add_group", name=name, nids=list(nids))["result"]

    def add_batch(self, name):
        """Adds a batch."""
        self._do("add_batch", name=name)

    def add_test(self, batch, from_group, to_group, test, mode=None, size=None, check=None,
                 concurrency=None, distribute=None, loops=None):
        """Adds a test (``"ping"`` or ``"brw"`` with `mode` ``"read"``/``"write"``)."""
        self._do("add_test", batch=batch, test=test, mode=mode, size=size, check=check,
                 concurrency=concurrency, distribute=distribute, loops=loops,
                 **{"from": from_group, "to": to_group})

    def run(self, batch):
        """Starts a batch."""
        return self._do("run", batch=batch)["result"]

    def stop(self, batch):
        """Stops a batch."""
        self._do("stop", batch=batch)

    def stat(self, *groups, count=1, delay=5):
        """Rates and bandwidth of `groups`, `count` rounds `delay` seconds apart."""
        return self._do("stat", groups=list(groups), count=count, delay=delay)["result"]

    def show_error(self, *groups):
        """Error nodes per group: ``{"clients": 0, "servers": 0}``."""
        return self._do("show_error", groups=list(groups))["result"]

    def command(self, *args):
        """Any other lst command in the session; returns what it printed."""
        return self._do("command", argv=[str(a) for a in args])["text"]


def _hostname():
    return os.uname().nodename
