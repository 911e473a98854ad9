"""Declaring tests: every misuse is a DeclarationError with a clear message; plans have the
protocol's TestPlan shape."""

import unittest

import harness  # noqa: F401  (puts the package on sys.path)
from lutf import DeclarationError, Test


def plan_of(test):
    return test.plan("desc")


class TestNeeds(unittest.TestCase):
    def test_default_is_one_node(self):
        self.assertEqual(Test().roles, ["node1"])

    def test_nodes_gives_numbered_roles(self):
        self.assertEqual(Test(nodes=3).roles, ["node1", "node2", "node3"])

    def test_named_roles_interfaces_lnet(self):
        t = Test(roles=["server", "client"], interfaces=2, lnet=True)

        @t.step(role="server")
        def s(ctx):
            return None

        self.assertEqual(
            plan_of(t)["needs"], {"roles": ["server", "client"], "interfaces": 2, "lnet": True}
        )

    def test_interfaces_per_role(self):
        t = Test(roles=["client", "router", "server"], interfaces={"router": 2, "client": 0})

        @t.step(role="client")
        def s(ctx):
            return None

        self.assertEqual(
            plan_of(t)["needs"],
            {"roles": ["client", "router", "server"], "interfaces": 0,
             "role_interfaces": {"router": 2}, "lnet": False},
        )

    def assertRejected(self, fragment, **kwargs):
        with self.assertRaises(DeclarationError) as caught:
            Test(**kwargs)
        self.assertIn(fragment, str(caught.exception))

    def test_bad_needs_are_rejected(self):
        self.assertRejected("not both", roles=["a"], nodes=2)
        self.assertRejected("at least 1", nodes=0)
        self.assertRejected("at least 1", nodes="2")
        self.assertRejected("at least 1", nodes=True)
        self.assertRejected("list of role names", roles="server")
        self.assertRejected("at least one role", roles=[])
        self.assertRejected("is not a role name", roles=["a b"])
        self.assertRejected("is not a role name", roles=["x@y"])
        self.assertRejected("listed twice", roles=["a", "a"])
        self.assertRejected("interfaces", interfaces=-1)
        self.assertRejected("not a role of the test", roles=["a"], interfaces={"b": 2})
        self.assertRejected("role 'a': expected a whole number", roles=["a"],
                            interfaces={"a": -1})
        self.assertRejected("role 'a': expected a whole number", roles=["a"],
                            interfaces={"a": True})
        self.assertRejected('such as {"router": 2}', interfaces="2")
        self.assertRejected("True or False", lnet="yes")

    def test_arguments_are_keywords_only(self):
        with self.assertRaises(TypeError):
            Test(["server"])


class TestSteps(unittest.TestCase):
    def rejected(self, fragment, declare):
        with self.assertRaises(DeclarationError) as caught:
            declare()
        self.assertIn(fragment, str(caught.exception))
        return str(caught.exception)

    def test_bare_decorator_on_one_role(self):
        t = Test()

        @t.step
        def only(ctx):
            """Does one thing.

            More text."""
            return 1

        [step] = plan_of(t)["steps"]
        self.assertEqual(
            step,
            {
                "name": "only",
                "role": "node1",
                "after": [],
                "timeout": None,
                "cleanup": False,
                "background": False,
                "stops": [],
                "description": "Does one thing.",
            },
        )

    def test_decorator_returns_the_function(self):
        t = Test()

        def f(ctx):
            return 7

        self.assertIs(t.step(f), f)
        self.assertEqual(f(None), 7)

    def test_role_is_required_with_several_roles(self):
        t = Test(roles=["server", "client"])
        message = self.rejected("say which role", lambda: t.step(lambda_free))
        self.assertIn("'server', 'client'", message)

    def test_unknown_role_suggests_the_close_one(self):
        t = Test(roles=["server", "client"])

        def connect(ctx):
            pass

        message = self.rejected("unknown role 'clinet'", lambda: t.step(role="clinet")(connect))
        self.assertIn("did you mean 'client'?", message)
        self.assertIn("step 'connect'", message)

    def test_role_lists(self):
        t = Test(nodes=2)

        def f(ctx):
            pass

        self.rejected("names no role", lambda: t.step(role=[])(f))
        self.rejected("unknown role 'node3'", lambda: t.step(role=["node1", "node3"])(f))
        self.rejected("lists a role twice", lambda: t.step(role=["node1", "node1"])(f))

    def test_duplicate_names(self):
        t = Test()

        @t.step
        def same(ctx):
            pass

        def again():
            @t.step
            def same(ctx):  # noqa: F811
                pass

        message = self.rejected("two steps are named 'same'", again)
        self.assertIn("must be unique", message)

    def test_declared_twice(self):
        t = Test()

        def f(ctx):
            pass

        t.step(f)
        self.rejected("declared twice", lambda: t.cleanup(f))

    def test_signature_must_take_the_context(self):
        t = Test()

        def none():
            pass

        def two(ctx, other):
            pass

        def defaults(ctx, other=1):
            pass

        self.rejected("exactly one argument", lambda: t.step(none))
        self.rejected("def two(ctx):", lambda: t.step(two))
        t.step(defaults)  # fine: callable with one argument

    def test_the_signature_check_agrees_with_inspect(self):
        # test.py reads the code object instead of importing inspect (every step's run
        # pays for that import): the two must agree on every shape of def.
        import inspect
        from lutf import test as test_module

        src = ["def f(ctx): pass", "def f(): pass", "def f(ctx, other): pass",
               "def f(ctx, other=1): pass", "def f(*args): pass", "def f(ctx, *args): pass",
               "def f(a, b, *args): pass", "def f(ctx, *, k): pass", "def f(ctx, *, k=1): pass",
               "def f(*, k): pass", "def f(**kw): pass", "def f(ctx, **kw): pass",
               "def f(ctx=None): pass", "def f(a=1, b=2): pass"]
        for code in src:
            scope = {}
            exec(code, scope)
            fn = scope["f"]
            try:
                inspect.signature(fn).bind(None)
                want = True
            except TypeError:
                want = False
            self.assertEqual(test_module._takes_one_argument(fn), want, code)

    def test_async_and_required_keywords_are_rejected(self):
        t = Test()
        scope = {}
        exec("async def coro(ctx): pass\nasync def agen(ctx):\n    yield 1\n"
             "def kw(ctx, *, k): pass\ndef star(*args): pass", scope)
        self.rejected("not a generator", lambda: t.step(scope["coro"]))
        self.rejected("not a generator", lambda: t.step(scope["agen"]))
        self.rejected("exactly one argument", lambda: t.step(scope["kw"]))
        t.step(scope["star"])  # fine: callable with one argument

    def test_generators_and_lambdas_are_rejected(self):
        t = Test()

        def gen(ctx):
            yield 1

        self.rejected("not a generator", lambda: t.step(gen))
        self.rejected("a def with a name", lambda: t.step(lambda ctx: 1))

    def test_not_a_function(self):
        t = Test()
        self.rejected("decorates a function", lambda: t.step("role"))

    def test_timeouts(self):
        t = Test()

        def f(ctx):
            pass

        for bad in (0, -1, "5", True, float("inf"), float("nan")):
            self.rejected("timeout must be", lambda: t.step(timeout=bad)(f))
        t.step(timeout=5)(f)
        self.assertEqual(plan_of(t)["steps"][0]["timeout"], 5.0)

    def test_after_must_name_steps(self):
        t, other = Test(), Test()

        def helper(ctx):
            pass

        @other.step
        def foreign(ctx):
            pass

        def f(ctx):
            pass

        self.rejected("which is not a step", lambda: t.step(after=[helper])(f))
        self.rejected("another Test", lambda: t.step(after=[foreign])(f))
        self.rejected("takes a list", lambda: t.step(after=3)(f))

    def test_after_accepts_a_single_step_and_names(self):
        t = Test()

        @t.step
        def a(ctx):
            pass

        @t.step(after=a)
        def b(ctx):
            pass

        @t.step(after=["a", b, "b"])
        def c(ctx):
            pass

        after = {s["name"]: s["after"] for s in plan_of(t)["steps"]}
        self.assertEqual(after, {"a": [], "b": ["a"], "c": ["a", "b"]})


class TestValidate(unittest.TestCase):
    def invalid(self, t, *fragments):
        with self.assertRaises(DeclarationError) as caught:
            t.validate()
        for fragment in fragments:
            self.assertIn(fragment, str(caught.exception))
        return caught.exception

    def test_no_steps(self):
        self.invalid(Test(), "declares no steps")

    def test_unknown_name_suggests(self):
        t = Test()

        @t.step
        def listen(ctx):
            pass

        @t.step(after=["lisen"])
        def connect(ctx):
            pass

        error = self.invalid(t, "unknown step 'lisen'", "did you mean 'listen'?")
        self.assertEqual(error.line, connect.__code__.co_firstlineno)

    def test_self_dependency(self):
        t = Test()

        @t.step(after=["me"])
        def me(ctx):
            pass

        self.invalid(t, "names the step itself")

    def test_cycle_is_shown(self):
        t = Test()

        @t.step(after=["c"])
        def a(ctx):
            pass

        @t.step(after=[a])
        def b(ctx):
            pass

        @t.step(after=[b])
        def c(ctx):
            pass

        self.invalid(t, "cycle", "a -> c -> b -> a")

    def test_ordinary_step_cannot_follow_a_cleanup(self):
        t = Test()

        @t.cleanup
        def tidy(ctx):
            pass

        @t.step(after=[tidy])
        def work(ctx):
            pass

        self.invalid(t, "comes after cleanup 'tidy'")

    def test_cleanups_may_follow_steps_and_cleanups(self):
        t = Test()

        @t.step
        def work(ctx):
            pass

        @t.cleanup(after=[work])
        def first(ctx):
            pass

        @t.cleanup(after=[first, work])
        def second(ctx):
            pass

        steps = plan_of(t)["steps"]
        self.assertEqual([s["cleanup"] for s in steps], [False, True, True])
        self.assertEqual(steps[2]["after"], ["first", "work"])

    def test_stops_must_name_background_steps(self):
        t = Test()

        @t.step
        def plain(ctx):
            pass

        @t.step(stops=[plain])
        def stopper(ctx):
            pass

        self.invalid(t, "stops 'plain', which is not a background step")

    def test_background_steps_cannot_stop(self):
        t = Test()

        @t.step(background=True)
        def bg(ctx):
            pass

        with self.assertRaises(DeclarationError) as caught:
            t.step(background=True, stops=[bg])(lambda_free)
        self.assertIn("cannot stop", str(caught.exception))

    def test_stopped_once_only(self):
        t = Test()

        @t.step(background=True)
        def bg(ctx):
            pass

        @t.step(stops=[bg])
        def one(ctx):
            pass

        @t.step(stops=[bg])
        def two(ctx):
            pass

        self.invalid(t, "stopped by both 'one' and 'two'")

    def test_stopper_must_not_come_before_its_target(self):
        t = Test()

        @t.step(stops=["bg"])
        def early(ctx):
            pass

        @t.step(after=[early], background=True)
        def bg(ctx):
            pass

        self.invalid(t, "but 'bg' comes after it")

    def test_stopping_implies_coming_after(self):
        t = Test()

        @t.step(background=True)
        def bg(ctx):
            pass

        @t.step
        def work(ctx):
            pass

        @t.step(after=[work], stops=[bg])
        def done(ctx):
            pass

        steps = {s["name"]: s for s in plan_of(t)["steps"]}
        self.assertEqual(steps["done"]["after"], ["work", "bg"])
        self.assertEqual(steps["done"]["stops"], ["bg"])
        self.assertTrue(steps["bg"]["background"])

    def test_validate_twice_gives_the_same_plan(self):
        t = Test()

        @t.step(background=True)
        def bg(ctx):
            pass

        @t.step(stops=[bg])
        def done(ctx):
            pass

        first = plan_of(t)
        t.validate()
        self.assertEqual(plan_of(t), first)


def lambda_free(ctx):
    pass


class TestMultiRole(unittest.TestCase):
    def test_expands_to_one_step_per_role(self):
        t = Test(nodes=2)

        @t.step(role=t.roles, timeout=9)
        def configure(ctx):
            """Configure."""

        @t.step(role="node1", after=[configure])
        def check(ctx):
            pass

        @t.cleanup(role=t.roles)
        def unconfigure(ctx):
            pass

        steps = plan_of(t)["steps"]
        self.assertEqual(
            [(s["name"], s["role"], s["after"]) for s in steps],
            [
                ("configure@node1", "node1", []),
                ("configure@node2", "node2", []),
                ("check", "node1", ["configure@node1", "configure@node2"]),
                ("unconfigure@node1", "node1", []),
                ("unconfigure@node2", "node2", []),
            ],
        )
        self.assertEqual(steps[1]["timeout"], 9.0)
        self.assertEqual(steps[1]["description"], "Configure.")
        self.assertEqual(t.instance("configure@node2")[1], "node2")
        self.assertEqual(t.instance("configure"), (None, None))
        self.assertEqual(t.instance("check")[1], "node1")

    def test_background_on_every_role_stopped_by_one_step(self):
        t = Test(nodes=2)

        @t.step(role=t.roles, background=True)
        def traffic(ctx):
            pass

        @t.step(role="node1", stops=[traffic])
        def change(ctx):
            pass

        steps = {s["name"]: s for s in plan_of(t)["steps"]}
        self.assertEqual(steps["change"]["stops"], ["traffic@node1", "traffic@node2"])
        self.assertEqual(steps["change"]["after"], ["traffic@node1", "traffic@node2"])

    def test_multi_role_steps_cannot_stop(self):
        t = Test(nodes=2)

        @t.step(role="node1", background=True)
        def bg(ctx):
            pass

        def f(ctx):
            pass

        with self.assertRaises(DeclarationError) as caught:
            t.step(role=t.roles, stops=[bg])(f)
        self.assertIn("several roles cannot stop", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
