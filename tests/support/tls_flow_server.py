"""A TLS server on 127.0.0.1 that answers like Flow Service's create
endpoint (201 with the tutorial's id and etag), with a self-signed
certificate for 127.0.0.1 made by the openssl command.

Prints one line, "PORT CERT_PATH", then a line "REQUEST METHOD PATH" for
every request that reaches it over a completed TLS session. Exits after
argv[1] seconds."""
import http.server
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

tmp = tempfile.mkdtemp()
cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
subprocess.run(
    ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
     "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
     "-addext", "basicConstraints=critical,CA:FALSE",
     "-keyout", key, "-out", cert],
    check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)
ANSWER = b'{"id": "056dd1b4-da33-42f9-add1-b4da3392f94e", "etag": "\\"1700e582-0000-0200-0000-5e3c85180000\\""}'


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        print("REQUEST POST", self.path, flush=True)
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    # TCP_NODELAY on every accepted socket: without it the server's small
    # writes wait for a delayed ACK, and curl (OpenSSL, TLS 1.3) stalls about
    # 40 ms per call, which the bench would charge to curl alone.
    def get_request(self):
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr


server = Server(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], cert, flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 30)
