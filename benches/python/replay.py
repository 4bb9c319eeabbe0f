"""A loopback server for the benchmarks: each connection reads its request, then gets an answer
written by a function (on its own thread). `replay` answers with an SSE response whose body is a
log, as fast as the socket takes it.

Imported by compare.py; run as a script (`replay.py LOG`) it serves the log on a free port,
prints its URL on one line, and serves until killed (for the TypeScript side of compare.sh).
"""
import socket
import sys
import threading


def loopback_server(answer):
    """A server on a free loopback port: reads each request, then answer(conn) writes the
    response, each connection on its own thread. Returns its URL."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)

    def one(conn):
        try:
            conn.recv(65536)
            answer(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def serve():
        while True:
            conn, _ = srv.accept()
            threading.Thread(target=one, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{srv.getsockname()[1]}"


def replay(log):
    """An answer replaying `log` as an event stream, then closing the connection."""

    def answer(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")
        conn.sendall(log)

    return answer


if __name__ == "__main__":
    log = open(sys.argv[1], "rb").read()
    print(loopback_server(replay(log)), flush=True)
    threading.Event().wait()
