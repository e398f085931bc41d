#!/usr/bin/python3
"""Small misbehaving servers for herokupq's fault tests, on 127.0.0.1 only.

    fake_servers.py MODE --port-file F [--record R] [--lifetime S]

MODE is one of
  record      accept every connection, note it, close it at once (a redirect's target:
              nothing must ever reach it);
  silent      accept every connection and never answer (a black-holed database);
  refuse-ssl  answer 'N' ("no SSL") to each 8-byte SSLRequest or GSSENCRequest, as a
              server without SSL does, and keep reading (a client that then sends its
              startup packet in cleartext would be seen);
  closed      bind a port and never listen on it: connecting is refused.

The port is written to the port file once the server is ready. Every connection and
every byte received is appended to the record file as one JSON line per event:
{"conn": N, "event": "open" | "data" | "close", "hex": "..."}. The server exits on
SIGTERM, or by itself after --lifetime seconds, so it can never outlive a test run.
Python 3 standard library only.
"""
import argparse
import json
import os
import signal
import socket
import struct
import sys
import threading

# The 8-byte requests that precede a startup packet (protocol codes 1234.5679, .5680).
SSL_REQUEST = struct.pack("!II", 8, 80877103)
GSSENC_REQUEST = struct.pack("!II", 8, 80877104)


class Recorder:
    def __init__(self, path):
        self.path, self.lock, self.count = path, threading.Lock(), 0

    def new_conn(self):
        with self.lock:
            self.count += 1
            n = self.count
        self.note(n, "open")
        return n

    def note(self, conn, event, data=b""):
        if not self.path:
            return
        line = json.dumps({"conn": conn, "event": event, "hex": data.hex()})
        with self.lock, open(self.path, "a", encoding="ascii") as f:
            f.write(line + "\n")


def serve_conn(mode, sock, recorder, stop):
    n = recorder.new_conn()
    pending = b""
    try:
        sock.settimeout(0.5)
        while mode != "record" and not stop.is_set():
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                break
            recorder.note(n, "data", data)
            pending += data
            while mode == "refuse-ssl" and pending[:8] in (SSL_REQUEST, GSSENC_REQUEST):
                pending = pending[8:]
                sock.sendall(b"N")
    except OSError:
        pass
    finally:
        recorder.note(n, "close")
        sock.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=("record", "silent", "refuse-ssl", "closed"))
    p.add_argument("--port-file", required=True)
    p.add_argument("--record")
    p.add_argument("--lifetime", type=float, default=300)
    args = p.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    if args.mode != "closed":
        server.listen(64)
    server.settimeout(0.2)
    recorder = Recorder(args.record)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"{server.getsockname()[1]}\n")
    os.replace(tmp, args.port_file)
    timer = threading.Timer(args.lifetime, stop.set)
    timer.daemon = True
    timer.start()
    while not stop.is_set():
        if args.mode == "closed":
            stop.wait(0.2)
            continue
        try:
            conn, _ = server.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve_conn, args=(args.mode, conn, recorder, stop),
                         daemon=True).start()
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
