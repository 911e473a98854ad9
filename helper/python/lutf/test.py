"""`Test`: what a test file declares — what it needs and its steps — checked as it is declared.

Mistakes are caught at import time with a message naming the step and the line, so that a
broken declaration is a FAIL with a clear reason before anything runs on any node. Checks
that need the whole file (dependencies by name, cycles, stops) run in `Test.validate()`,
which the runner calls once the file is imported.
"""

import math
import re
import types

from .errors import DeclarationError

# Roles end up in cluster files and results: keep them plain.
_ROLE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")


def _did_you_mean(word, choices):
    import difflib  # only on a mistake: every step's run imports this module

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# Code flags (CPython's `inspect.CO_*`): a plain function's own code object answers what
# `inspect` would, without importing it (a fifth of `import lutf` on an emulated guest,
# paid by every step's run, which imports the test file and so runs these checks again).
_CO_VARARGS = 0x04
_CO_GENERATOR = 0x20
_CO_COROUTINE = 0x80
_CO_ASYNC_GENERATOR = 0x200


def _plain_code(fn):
    """`fn`'s code object when it is a plain Python function, else None."""
    if not isinstance(fn, types.FunctionType) or hasattr(fn, "__wrapped__"):
        return None
    return fn.__code__


def _is_generator_or_coroutine(fn):
    code = _plain_code(fn)
    if code is None:
        import inspect

        return inspect.isgeneratorfunction(fn) or inspect.iscoroutinefunction(fn)
    return bool(code.co_flags & (_CO_GENERATOR | _CO_COROUTINE | _CO_ASYNC_GENERATOR))


def _takes_one_argument(fn):
    """Whether `fn(ctx)` binds: one positional argument, every other one with a default."""
    code = _plain_code(fn)
    if code is None:
        import inspect

        try:
            inspect.signature(fn).bind(None)
        except TypeError:
            return False
        except ValueError:
            pass  # no signature to check (a builtin): let it fail when called
        return True
    required = code.co_argcount - len(fn.__defaults__ or ())
    takes_one = code.co_argcount >= 1 or bool(code.co_flags & _CO_VARARGS)
    kw_required = set(code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount])
    kw_required -= set(fn.__kwdefaults__ or {})
    return takes_one and required <= 1 and not kw_required


def _listing(names):
    return ", ".join(repr(n) for n in names) if names else "none"


def _first_line(doc):
    for line in (doc or "").strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def _definition_line(fn):
    code = getattr(fn, "__code__", None)
    return code.co_firstlineno if code is not None else None


class Step:
    """One declared step. Test writers never build these: `@test.step` does.

    A step declared with several roles (``role=["a", "b"]`` or ``role=test.roles``) runs once
    per role; the plan lists one protocol step per role, named ``name@role``.
    """

    def __init__(self, test, fn, roles, multi, after, timeout, background, stops, cleanup):
        self.test = test
        self.fn = fn
        self.name = fn.__name__
        self.roles = roles
        self.multi = multi
        self.after_refs = after  # functions or names, resolved by Test.validate()
        self.stop_refs = stops
        self.timeout = timeout
        self.background = background
        self.cleanup = cleanup
        self.line = _definition_line(fn)
        code = getattr(fn, "__code__", None)
        self.file = code.co_filename if code is not None else None
        self.description = _first_line(fn.__doc__)
        # Filled by Test.validate(), as declared step names.
        self.after = []
        self.stops = []

    def __repr__(self):
        return f"<step {self.name} on {', '.join(self.roles)}>"

    def where(self):
        """`step 'name' (line N)`, for messages."""
        if self.line:
            return f"step {self.name!r} (line {self.line})"
        return f"step {self.name!r}"

    def instances(self):
        """(protocol step name, role) for each node it runs on."""
        if not self.multi:
            return [(self.name, self.roles[0])]
        return [(f"{self.name}@{role}", role) for role in self.roles]

    def plan(self):
        """The step as the protocol's `StepPlan`s (one per role)."""
        after = [n for dep in self.after for n, _ in self.test.step_named(dep).instances()]
        stops = [n for dep in self.stops for n, _ in self.test.step_named(dep).instances()]
        return [
            {
                "name": name,
                "role": role,
                "after": after,
                "timeout": self.timeout,
                "cleanup": self.cleanup,
                "background": self.background,
                "stops": stops,
                "description": self.description,
            }
            for name, role in self.instances()
        ]


class Test:
    """The test a file declares: what it needs from the cluster, and its steps.

    ``Test()``                            one node, role ``node1``
    ``Test(nodes=3)``                     roles ``node1``, ``node2``, ``node3``
    ``Test(roles=["server", "client"])``  named roles, each on its own node
    ``interfaces=N``                      each node needs N usable interfaces (up, not
                                          loopback, with IPv4); the test SKIPs otherwise
    ``interfaces={"router": 2}``          per role: the router's node needs 2, the
                                          others none (an ``lnet=LNet(...)`` adds what
                                          each role's nets use)
    ``lnet=True``                         LNet on every node (lutf loads and configures
                                          it where it is installed); SKIP otherwise
    ``lnet=LNet({...})``                  the LNet of each role, applied before the first
                                          step and undone after (`lutf.provision`)
    ``fs=FileSystem(...)``                a Lustre file system by roles (`lutf.fs`)
    ``debug="+net"``                      Lustre's debug mask during the test
    ``clean=False``                       no cleaning of the nodes before this test
                                          (default: clean, and collect the nodes' logs
                                          on failure, for tests that use LNet or Lustre;
                                          ``clean=True`` asks for it in any test)

    ``test.roles`` is the list of roles (``role=test.roles`` runs a step on every node).
    """

    def __init__(self, *, roles=None, nodes=None, interfaces=0, lnet=False, fs=None,
                 debug=None, clean=None):
        if roles is not None and nodes is not None:
            raise DeclarationError(
                "Test(): give either roles=[...] or nodes=N, not both"
            )
        if roles is None:
            count = 1 if nodes is None else nodes
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise DeclarationError(
                    f"Test(nodes=...): expected a whole number of at least 1, got {count!r}"
                )
            roles = [f"node{i}" for i in range(1, count + 1)]
        else:
            if isinstance(roles, str) or not isinstance(roles, (list, tuple)):
                raise DeclarationError(
                    f'Test(roles=...): expected a list of role names such as ["server", "client"], got {roles!r}'
                )
            if not roles:
                raise DeclarationError("Test(roles=[]): a test needs at least one role")
            seen = set()
            for role in roles:
                if not isinstance(role, str) or not _ROLE_RE.match(role):
                    raise DeclarationError(
                        f"Test(roles=...): {role!r} is not a role name "
                        "(a letter, then letters, digits, '_', '-' or '.')"
                    )
                if role in seen:
                    raise DeclarationError(f"Test(roles=...): role {role!r} is listed twice")
                seen.add(role)
            roles = list(roles)
        if isinstance(interfaces, dict):
            for role, count in interfaces.items():
                if role not in roles:
                    raise DeclarationError(
                        f"Test(interfaces=...): {role!r} is not a role of the test "
                        f"({_listing(roles)})"
                    )
                if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                    raise DeclarationError(
                        f"Test(interfaces=...): role {role!r}: expected a whole number of "
                        f"interfaces, got {count!r}"
                    )
            interfaces = dict(interfaces)
        elif isinstance(interfaces, bool) or not isinstance(interfaces, int) or interfaces < 0:
            raise DeclarationError(
                "Test(interfaces=...): expected a whole number of interfaces per node, or "
                f'role -> number such as {{"router": 2}}, got {interfaces!r}'
            )
        from .fs import FileSystem
        from .provision import LNet

        description = None
        if isinstance(lnet, LNet):
            description = lnet
            description.check_roles(roles)
            lnet = True
        elif not isinstance(lnet, bool):
            raise DeclarationError(
                f"Test(lnet=...): expected True or False, or lutf.provision.LNet(...), got {lnet!r}"
            )
        if fs is not None:
            if not isinstance(fs, FileSystem):
                raise DeclarationError(f"Test(fs=...): expected lutf.fs.FileSystem(...), got {fs!r}")
            for role in fs.roles():
                if role not in roles:
                    raise DeclarationError(
                        f"Test(fs=...): {role!r} is not a role of the test ({_listing(roles)})"
                    )
            lnet = True
        if debug is not None and (not isinstance(debug, str) or not debug.strip()):
            raise DeclarationError(f'Test(debug=...): a debug mask such as "+net", got {debug!r}')
        if clean is not None and not isinstance(clean, bool):
            raise DeclarationError(f"Test(clean=...): expected True or False, got {clean!r}")
        # A test that leaves Lustre alone has nothing to clean or collect: lutf does not
        # touch a machine's LNet (a developer's own, say) for it unless asked.
        uses_lustre = bool(lnet) or fs is not None or debug is not None
        self._system_wanted = uses_lustre or clean is True
        if clean is None:
            clean = uses_lustre
        self.roles = roles
        self.interfaces = interfaces
        self.lnet = lnet
        self.lnet_description = description
        self.fs = fs
        self.debug = debug
        self.clean = clean
        self._system = []
        self.steps = []
        self._by_name = {}
        self._validated = False

    def __repr__(self):
        return f"<Test roles={self.roles} steps={[s.name for s in self.steps]}>"

    # -- declaring ----------------------------------------------------------------------

    def step(self, fn=None, *, role=None, after=(), timeout=None, background=False, stops=()):
        """Declares a step: ``@test.step(role="server", after=[setup], timeout=30)``.

        - ``role``: the role whose node runs it (optional when the test has one role), or a
          list of roles to run it on each of those nodes at once (``role=test.roles``); its
          result is then ``{role: value}`` and it is named ``name@role`` in results.
        - ``after``: steps (the functions, or their names) that must end first; their return
          values are in ``ctx.results``. After a background step: once it has started.
        - ``timeout``: seconds before the step is killed and FAILs (default: the run's).
        - ``background=True``: later steps run while it goes on; it is stopped (``Stopped``
          is raised inside it) by a step naming it in ``stops``, else at the end of the test.
        - ``stops``: background steps to stop once this step has ended.

        Plain ``@test.step`` works too when the test has one role.
        """
        if fn is not None:
            return self._declare(fn, role, after, timeout, background, stops, cleanup=False)

        def decorate(f):
            return self._declare(f, role, after, timeout, background, stops, cleanup=False)

        return decorate

    def cleanup(self, fn=None, *, role=None, after=(), timeout=None):
        """Declares a cleanup step: it runs at the end of the test whatever happened before.

        Cleanups run once every other step has ended (passed, failed or not run). ``after``
        orders them and hands them the return values of the steps named that passed (a step
        that did not pass is simply missing from ``ctx.results``: use ``ctx.results.get``).
        """
        if fn is not None:
            return self._declare(fn, role, after, timeout, False, (), cleanup=True)

        def decorate(f):
            return self._declare(f, role, after, timeout, False, (), cleanup=True)

        return decorate

    def _declare(self, fn, role, after, timeout, background, stops, cleanup):
        kind = "cleanup" if cleanup else "step"
        if not callable(fn) or not hasattr(fn, "__name__"):
            raise DeclarationError(
                f"@test.{kind} decorates a function, got {fn!r} "
                f"(write @test.{kind}(role=...) with keyword arguments only)"
            )
        name = fn.__name__
        label = f"{kind} {name!r}"
        if not name.isidentifier():
            raise DeclarationError(
                f"@test.{kind} needs a def with a name (the step's name), got {name!r}"
            )
        if getattr(fn, "_lutf_step", None) is not None:
            raise DeclarationError(f"{label} is declared twice (one decorator per function)")
        if _is_generator_or_coroutine(fn):
            raise DeclarationError(
                f"{label} must be a plain function that returns its value "
                "(not a generator or coroutine: remove `yield` / `async`)"
            )
        if not _takes_one_argument(fn):
            raise DeclarationError(
                f"{label} must take exactly one argument, the context: def {name}(ctx):"
            )
        if name in self._by_name:
            first = self._by_name[name]
            raise DeclarationError(
                f"two steps are named {name!r} (lines {first.line} and {_definition_line(fn)}): "
                "step names are their function names and must be unique"
            )
        roles, multi = self._roles(label, role)
        if timeout is not None:
            if (
                isinstance(timeout, bool)
                or not isinstance(timeout, (int, float))
                or not math.isfinite(timeout)
                or timeout <= 0
            ):
                raise DeclarationError(
                    f"{label}: timeout must be a number of seconds above 0, got {timeout!r}"
                )
            timeout = float(timeout)
        if not isinstance(background, bool):
            raise DeclarationError(f"{label}: background must be True or False, got {background!r}")
        after = self._refs(label, "after", after)
        stops = self._refs(label, "stops", stops)
        if background and stops:
            raise DeclarationError(
                f"{label}: a background step cannot stop other steps "
                "(it never ends on its own); put stops= on an ordinary step"
            )
        if multi and stops:
            raise DeclarationError(
                f"{label}: a step on several roles cannot stop steps; "
                "put stops= on a step with one role"
            )
        step = Step(self, fn, roles, multi, after, timeout, background, stops, cleanup)
        self.steps.append(step)
        self._by_name[name] = step
        self._validated = False
        fn._lutf_step = step
        return fn

    def _roles(self, label, role):
        """(roles, multi) from a step's `role=`: one role name, or a list of them."""
        if role is None:
            if len(self.roles) != 1:
                raise DeclarationError(
                    f"{label}: say which role runs it: role= one of {_listing(self.roles)}, "
                    "or a list of them (role=test.roles for every node)"
                )
            return [self.roles[0]], False
        multi = isinstance(role, (list, tuple))
        roles = list(role) if multi else [role]
        if multi and not roles:
            raise DeclarationError(f"{label}: role=[] names no role")
        for r in roles:
            if not isinstance(r, str) or r not in self.roles:
                hint = _did_you_mean(r, self.roles) if isinstance(r, str) else ""
                raise DeclarationError(
                    f"{label}: unknown role {r!r}{hint}; "
                    f"this test's roles are {_listing(self.roles)}"
                )
        if len(set(roles)) != len(roles):
            raise DeclarationError(f"{label}: role= lists a role twice: {roles!r}")
        return roles, multi

    def _refs(self, label, what, refs):
        """Checks an `after=` / `stops=` list: step functions or names."""
        if refs is None:
            return []
        if isinstance(refs, str) or callable(refs):
            refs = [refs]
        if not isinstance(refs, (list, tuple)):
            raise DeclarationError(
                f"{label}: {what}= takes a list of steps (functions or names), got {refs!r}"
            )
        out = []
        for ref in refs:
            if isinstance(ref, str):
                out.append(ref)
                continue
            step = getattr(ref, "_lutf_step", None)
            if step is None:
                shown = getattr(ref, "__name__", repr(ref))
                raise DeclarationError(
                    f"{label}: {what}= names {shown!r}, which is not a step "
                    "(decorate it with @test.step first)"
                )
            if step.test is not self:
                raise DeclarationError(
                    f"{label}: {what}= names {step.name!r}, a step of another Test object"
                )
            out.append(step.name)
        return out

    # -- checking -----------------------------------------------------------------------

    def step_named(self, name):
        """The declared step called `name`, or None."""
        return self._by_name.get(name)

    def instance(self, name):
        """(Step, role) for a protocol step name (`name`, or `name@role` for a step on
        several roles), or (None, None)."""
        base, _, role = name.partition("@")
        step = self._by_name.get(base)
        if step is None:
            return None, None
        for instance_name, instance_role in step.instances():
            if instance_name == name:
                return step, instance_role
        return None, None

    def validate(self):
        """Checks what needs the whole file: names, cycles, stops. Raises DeclarationError."""
        if not self.steps:
            raise DeclarationError(
                "the test declares no steps: decorate functions with @test.step"
            )
        names = [s.name for s in self.steps]
        for step in self.steps:
            step.after = self._resolve(step, "after", step.after_refs, names)
            step.stops = self._resolve(step, "stops", step.stop_refs, names)
        for step in self.steps:
            for name in step.after:
                other = self._by_name[name]
                if other.cleanup and not step.cleanup:
                    raise DeclarationError(
                        f"{step.where()} comes after cleanup {name!r}: cleanups run last, "
                        "so an ordinary step cannot wait for one",
                        step.line,
                        step.file,
                    )
        self._check_cycles()
        stopped_by = {}
        for step in self.steps:
            for name in step.stops:
                target = self._by_name[name]
                if not target.background:
                    raise DeclarationError(
                        f"{step.where()} stops {name!r}, which is not a background step "
                        "(declare it with background=True)",
                        step.line,
                        step.file,
                    )
                if name in stopped_by:
                    raise DeclarationError(
                        f"background step {name!r} is stopped by both {stopped_by[name]!r} "
                        f"and {step.name!r}: name it in one step's stops=",
                        step.line,
                        step.file,
                    )
                stopped_by[name] = step.name
                if self._depends_on(target, step.name):
                    raise DeclarationError(
                        f"{step.where()} stops {name!r}, but {name!r} comes after it: "
                        "a step can only stop a background step that started before it ended",
                        step.line,
                        step.file,
                    )
                # Stopping implies coming after: the step it stops must have started.
                if not self._depends_on(step, name):
                    step.after.append(name)
        self._add_system_steps()
        self._validated = True

    # -- the steps lutf adds (lutf.system) ---------------------------------------------

    def _system_step(self, fn, name, roles, after, cleanup, timeout=600.0):
        step = Step(self, fn, list(roles), True, list(after), timeout, False, [], cleanup)
        step.name = name
        step.after = list(after)
        step.description = _first_line(fn.__doc__)
        self._by_name[name] = step
        self._system.append(step)
        return step

    def _add_system_steps(self):
        """Adds the clean, set-up, log and tear-down steps (see `lutf.system`)."""
        from . import system

        for step in self._system:
            self._by_name.pop(step.name, None)
        self._system = []
        if not self._system_wanted:
            return
        first = []
        if self.clean:
            first = [self._system_step(system.clean, "lutf.clean", self.roles, [], False).name]
        setup = []
        if self.lnet or self.fs is not None or self.debug:
            setup = [self._system_step(system.setup, "lutf.setup", self.roles, first, False).name]
        before = first + setup
        fs = self.fs
        if fs is not None:
            servers = self._system_step(system.fs_part("servers"), "lutf.fs_servers",
                                        fs.server_roles(), before, False)
            osts = self._system_step(system.fs_part("ost"), "lutf.fs_ost", fs.ost,
                                     [servers.name], False)
            self._system_step(system.fs_part("client"), "lutf.fs_client", fs.client,
                              [osts.name], False)
        # The master puts the test's own cleanups before this one.
        last = self._system_step(system.collect_logs, "lutf.logs", self.roles,
                                 first + setup, True, timeout=300.0).name
        if fs is not None:
            c = self._system_step(system.fs_umount("client"), "lutf.fs_umount_client",
                                  fs.client, [last], True)
            o = self._system_step(system.fs_umount("ost"), "lutf.fs_umount_ost", fs.ost,
                                  [c.name], True)
            last = self._system_step(system.fs_umount("servers"), "lutf.fs_umount_servers",
                                     fs.server_roles(), [o.name], True).name
        if self.lnet_description is not None or fs is not None:
            self._system_step(system.undo, "lutf.undo", self.roles, [last], True)

    def setup_summary(self):
        """What lutf sets up for this test, one line each, for `lutf list` / `--dry-run`."""
        lines = []
        if self.lnet_description is not None:
            lines.extend(self.lnet_description.summary())
        elif self.lnet:
            lines.append("lnet: loaded and configured on every node (lnetctl lnet configure --all)")
        if self.fs is not None:
            lines.extend(self.fs.summary())
        if self.debug:
            lines.append(f"debug mask: {self.debug}")
        if self._system_wanted and not self.clean:
            lines.append("no cleaning before the test")
        return lines

    def _resolve(self, step, what, refs, names):
        out = []
        for name in refs:
            if name == step.name:
                raise DeclarationError(
                    f"{step.where()}: {what}= names the step itself", step.line, step.file
                )
            if name not in self._by_name:
                raise DeclarationError(
                    f"{step.where()}: {what}= names unknown step {name!r}"
                    f"{_did_you_mean(name, names)}; steps are {_listing(names)}",
                    step.line,
                    step.file,
                )
            if name not in out:
                out.append(name)
        return out

    def _depends_on(self, step, name):
        """Whether `step` comes after step `name`, directly or through others."""
        seen = set()
        todo = list(step.after)
        while todo:
            current = todo.pop()
            if current == name:
                return True
            if current not in seen:
                seen.add(current)
                todo.extend(self._by_name[current].after)
        return False

    def _check_cycles(self):
        state = {}  # name -> 1 while on the path, 2 when done

        def visit(name, path):
            state[name] = 1
            path.append(name)
            for dep in self._by_name[name].after:
                if state.get(dep) == 1:
                    cycle = path[path.index(dep):] + [dep]
                    step = self._by_name[cycle[0]]
                    raise DeclarationError(
                        "steps wait for each other in a cycle: "
                        + " -> ".join(cycle)
                        + " (each comes after the next)",
                        step.line,
                        step.file,
                    )
                if state.get(dep) is None:
                    visit(dep, path)
            path.pop()
            state[name] = 2

        for step in self.steps:
            if state.get(step.name) is None:
                visit(step.name, [])

    def interface_needs(self):
        """``{"interfaces": N}`` (every role) and, for the roles needing more,
        ``{"role_interfaces": {role: N}}``: from ``interfaces=`` and the LNet description."""
        if isinstance(self.interfaces, dict):
            common, own = 0, dict(self.interfaces)
        else:
            common, own = self.interfaces, {}
        if self.lnet_description is not None:
            for role, count in self.lnet_description.interfaces_needed().items():
                own[role] = max(own.get(role, 0), count)
        out = {"interfaces": common}
        more = {r: own[r] for r in self.roles if own.get(r, 0) > common}
        if more:
            out["role_interfaces"] = more
        return out

    def plan(self, description):
        """The test as the protocol's `TestPlan` (validates first)."""
        if not self._validated:
            self.validate()
        needs = {"roles": list(self.roles), "interfaces": 0, "lnet": self.lnet}
        needs.update(self.interface_needs())
        plan = {
            "description": description,
            "needs": needs,
            "steps": [p for s in self.steps for p in s.plan()],
        }
        # The master merges these in: the set-up ones before every step of the test, the
        # cleanups after its cleanups; `lutf run --no-clean` leaves lutf.clean out.
        system = [p for s in self._system for p in s.plan()]
        if system:
            plan["system"] = system
        summary = self.setup_summary()
        if summary:
            plan["setup"] = summary
        return plan
