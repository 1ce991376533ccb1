"""A TLS server on 127.0.0.1 with a self-signed certificate (made with the
openssl command). Prints its port. For each connection it attempts the
handshake; if a client ever completes it and sends a request, it prints
GOT-REQUEST on stdout. Exits after argv[1] seconds."""
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
     "-keyout", key, "-out", cert],
    check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)


def serve():
    while True:
        conn, _ = s.accept()
        try:
            tls = ctx.wrap_socket(conn, server_side=True)
            data = tls.recv(4096)
            if data:
                print("GOT-REQUEST", flush=True)
        except Exception as e:  # the client refused our certificate
            print("HANDSHAKE-FAILED", type(e).__name__, flush=True)
        finally:
            conn.close()


threading.Thread(target=serve, daemon=True).start()
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 30)
