"""`Context`: what a step gets — its node, the other nodes, earlier results, parameters —
and what it can do with it (run commands, skip, fail, log)."""

import sys
import time

from . import errors, process


class Attrs(dict):
    """A JSON object whose keys also read as attributes: ``node.lnet.nids``."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                f"no {name!r} here; there is {', '.join(sorted(map(str, self))) or 'nothing'}"
            ) from None


def attrs(value):
    """`value` with every JSON object in it turned into `Attrs`."""
    if isinstance(value, dict):
        return Attrs((k, attrs(v)) for k, v in value.items())
    if isinstance(value, list):
        return [attrs(v) for v in value]
    return value


class Node:
    """A node as a step sees it: its facts as attributes, plus its name and role.

    ``node.hostname``, ``node.kernel``, ``node.os.id``, ``node.interfaces`` (all of them),
    ``node.lnet.nids``, ... are the node's facts. Added here:

    - ``node.name``: the cluster's name for the node; ``node.role``: the test's role for it
    - ``node.usable_interfaces``: the interfaces that are up, not loopback, with IPv4
    - ``node.addresses``: the IPv4 addresses of those, as strings
    - ``node.address``: the first of them (the usual address to reach the node at)
    - ``node.targets``: the block devices the cluster file gives its Lustre targets
      (``{"mgs", "mdt", "ost", "backfs"}``), or None
    """

    def __init__(self, name, role, facts, targets=None):
        self.name = name
        self.role = role
        self.targets = dict(targets) if targets else None
        self.facts = attrs(facts or {})

    def __getattr__(self, attr):
        facts = self.__dict__.get("facts")
        if attr.startswith("__") or facts is None:
            raise AttributeError(attr)
        if attr in facts:
            return facts[attr]
        raise AttributeError(
            f"node {self.name!r} has no fact {attr!r}; facts are "
            f"{', '.join(sorted(facts)) or 'none'}, and name, role, usable_interfaces, "
            "addresses, address, targets"
        )

    def __repr__(self):
        return f"<node {self.name} ({self.role})>"

    @property
    def usable_interfaces(self):
        """Interfaces that are up, not loopback, with at least one IPv4 address."""
        out = []
        for iface in self.facts.get("interfaces", []):
            flags = iface.get("flags", {})
            if flags.get("up") and not flags.get("loopback") and iface.get("ipv4"):
                out.append(iface)
        return out

    @property
    def addresses(self):
        """The IPv4 addresses of the usable interfaces, in interface order."""
        return [a["address"] for i in self.usable_interfaces for a in i["ipv4"]]

    @property
    def address(self):
        """The first usable IPv4 address; the step FAILs clearly when there is none."""
        addresses = self.addresses
        if not addresses:
            raise errors.Failed(
                f"node {self.name!r} has no usable interface (up, not loopback, with IPv4): "
                "declare Test(interfaces=1) to SKIP on such nodes"
            )
        return addresses[0]


class MissingResult(KeyError):
    """Asked for the result of a step this step does not come after, or that did not pass."""

    def __str__(self):
        return self.args[0]


class Results(dict):
    """Step name -> return value, for the steps this step comes after.

    Index with the step's name or with the step function itself: ``ctx.results[listen]``.
    A step declared on several roles gives ``{role: value}`` (``name@role`` reads one).
    """

    def __init__(self, values):
        grouped = {}
        for name, value in (values or {}).items():
            base, at, role = name.partition("@")
            if at:
                grouped.setdefault(base, {})[role] = value
            else:
                grouped[name] = value
        super().__init__(grouped)

    @staticmethod
    def _key(step):
        inner = getattr(step, "_lutf_step", None)
        return inner.name if inner is not None else step

    def __getitem__(self, step):
        name = self._key(step)
        if isinstance(name, str) and "@" in name and not super().__contains__(name):
            base, _, role = name.partition("@")
            per_role = super().get(base)
            if isinstance(per_role, dict) and role in per_role:
                return per_role[role]
        return super().__getitem__(name)

    def __contains__(self, step):
        try:
            self[step]
        except KeyError:
            return False
        return True

    def get(self, step, default=None):
        try:
            return self[step]
        except KeyError:
            return default

    def __missing__(self, name):
        have = ", ".join(repr(k) for k in self) or "none"
        raise MissingResult(
            f"no result from step {name!r} (results here: {have}); a step sees the results "
            "of the steps in its after=, once they passed"
        )


def _bytes(value):
    """The protocol's `Bytes` as Python sees them: a str, or bytes when not UTF-8
    (`{"base64": ...}` on the wire)."""
    if isinstance(value, dict) and set(value) == {"base64"}:
        import base64  # rare (output that is not UTF-8): not paid by every step

        raw = base64.b64decode(value["base64"])
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
    return value


class Context:
    """What a step receives as its one argument, `ctx`.

    - ``ctx.node``: this step's node (`Node`); ``ctx.nodes``: role -> `Node`, for every role
      (``ctx.nodes["server"].address`` or ``ctx.nodes.server.address``)
    - ``ctx.results``: return values of the steps it comes after; ``ctx.result(step)``
    - ``ctx.params``: the run's parameters (``lutf run --param key=value``)
    - ``ctx.secrets``: the run's secret values, name -> str (bytes when not UTF-8); the
      helper replaces them by ``[secret NAME]`` in the step's log, failure and value, so
      a secret printed by mistake never reaches a log or a result
    - ``ctx.run(...)``: run a command (see `lutf.run`)
    - ``ctx.skip(reason)``, ``ctx.fail(reason)``, ``ctx.log(...)``
    - ``ctx.test``, ``ctx.step``, ``ctx.role``: where we are (``samples/test_01``, ...)
    - ``ctx.nids``: role -> its NIDs (as set up for this test: ``ctx.nids["router"]``)
    - ``ctx.fs``: the test's `lutf.fs.FileSystem`, or None
    - ``ctx.failed``: in a cleanup, why the test failed (None when nothing failed)
    """

    def __init__(self, test="", step="", role="", node_name="", nodes=None, results=None,
                 params=None, secrets=None, failed=None):
        self.test = test
        self.step = step
        self.role = role
        self.nodes = Attrs(
            (r, Node(info.get("name", ""), r, info.get("facts"), info.get("targets")))
            for r, info in (nodes or {}).items()
        )
        self.node = self.nodes.get(role) or Node(node_name, role, {})
        self.results = Results(results)
        # Facts are read once per run, before lutf cleaned the nodes and set up this test's
        # LNet: what the set-up reported is the LNet the nodes have now.
        setup = self.results.get("lutf.setup")
        if isinstance(setup, dict):
            for r, value in setup.items():
                n = self.nodes.get(r)
                if n is not None and isinstance(value, dict) and value.get("nids"):
                    lnet = Attrs(n.facts.get("lnet") or {})
                    lnet.update(module_loaded=True, configured=True, nids=list(value["nids"]))
                    n.facts["lnet"] = lnet
        self.params = dict(params or {})
        self.secrets = {k: _bytes(v) for k, v in (secrets or {}).items()}
        self.failed = failed
        # Set by the runner from the test's declaration.
        self.lnet_description = None
        self.fs = None
        self.declared = {}

    @property
    def nids(self):
        """Role -> NIDs: what lutf's set-up of this test reported, else what the test's LNet
        description gives the nodes' interfaces, else the NIDs the nodes had at the start."""
        from . import provision

        out = Attrs()
        setup = self.results.get("lutf.setup")
        for role, node in self.nodes.items():
            done = setup.get(role) if isinstance(setup, dict) else None
            if isinstance(done, dict) and done.get("nids"):
                out[role] = list(done["nids"])
        missing = {r: n for r, n in self.nodes.items() if r not in out}
        if missing:
            planned = provision.planned_nids(missing, self.lnet_description)
            out.update((r, v) for r, v in planned.items())
        return out

    @classmethod
    def from_json(cls, data, step=""):
        """A context from the protocol's `StepContext` (as decoded JSON)."""
        return cls(
            test=data.get("test", ""),
            step=step,
            role=data.get("role", ""),
            node_name=data.get("node_name", ""),
            nodes=data.get("nodes"),
            results=data.get("results"),
            params=data.get("params"),
            secrets=data.get("secrets"),
            failed=data.get("failed"),
        )

    def result(self, step):
        """The return value of `step` (its function or its name)."""
        return self.results[step]

    def run(self, command, **options):
        """Runs a command; see `lutf.run` for the options."""
        return process.run(command, **options)

    def skip(self, reason):
        """Skips the whole test with `reason`."""
        errors.skip(reason)

    def fail(self, reason):
        """Fails the step with `reason`."""
        errors.fail(reason)

    def log(self, *parts):
        """Writes a timestamped line into the step's log."""
        t = time.time()
        now = time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t % 1 * 1000):03d}"
        print(f"[{now}]", *parts, flush=True)
        sys.stdout.flush()
