#!/usr/bin/env python3
"""TCP relay on 127.0.0.1 that records both directions of each connection.

    relay.py LISTEN_PORT TARGET_PORT OUT_PREFIX

Connection N is written to OUT_PREFIX-N-c2s.bin (client to server) and
OUT_PREFIX-N-s2c.bin (server to client) when it closes. Used to capture the
peer vectors in rtmp-core/tests/data (see the README there).
"""
import socket
import sys
import threading


def pump(src, dst, sink):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            sink.extend(data)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def serve(conn, n, target_port, prefix):
    upstream = socket.create_connection(("127.0.0.1", target_port))
    c2s, s2c = bytearray(), bytearray()
    a = threading.Thread(target=pump, args=(conn, upstream, c2s))
    b = threading.Thread(target=pump, args=(upstream, conn, s2c))
    a.start()
    b.start()
    a.join()
    b.join()
    conn.close()
    upstream.close()
    with open(f"{prefix}-{n}-c2s.bin", "wb") as f:
        f.write(c2s)
    with open(f"{prefix}-{n}-s2c.bin", "wb") as f:
        f.write(s2c)


def main():
    listen_port, target_port, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(8)
    print("ready", flush=True)
    n = 0
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, n, target_port, prefix), daemon=False).start()
        n += 1


if __name__ == "__main__":
    main()
