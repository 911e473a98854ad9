"""Two nodes talk over TCP: a server in the background, a client that connects to it."""
import socket
import time

from lutf import Stopped, Test

test = Test(roles=["server", "client"], interfaces=1)


@test.step(role="server")
def pick_port(ctx):
    """A free TCP port on the server."""
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


@test.step(role="server", after=[pick_port], background=True)
def serve(ctx):
    """Answer each connection with what it sent, upper-cased, until stopped."""
    served = 0
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("", ctx.result(pick_port)))
        server.listen(5)
        try:
            while True:
                conn, peer = server.accept()
                with conn:
                    conn.sendall(conn.recv(1024).upper())
                served += 1
                ctx.log("answered", peer[0])
        except Stopped:
            return {"served": served}


@test.step(role="client", after=[pick_port, serve], stops=[serve])
def talk(ctx):
    """Connect to the server's address (retrying while it starts) and check the answer."""
    where = (ctx.nodes["server"].address, ctx.result(pick_port))
    deadline = time.time() + 30  # generous: the server only has to start listening
    while True:
        try:
            with socket.create_connection(where, timeout=10) as conn:
                conn.sendall(b"hello")
                answer = conn.recv(1024)
            break
        except ConnectionRefusedError:
            if time.time() > deadline:
                ctx.fail(f"{where[0]}:{where[1]} refused connections for 30 s")
            time.sleep(0.1)
    assert answer == b"HELLO", f"the server answered {answer!r}"
    return {"server": f"{where[0]}:{where[1]}", "answer": answer.decode()}


@test.step(role="client", after=[talk, serve])
def counted(ctx):
    """The server counted the connection."""
    served = ctx.result(serve)["served"]
    assert served == 1, f"the server answered {served} connections, expected 1"
    return served
