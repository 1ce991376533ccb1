"""A TCP listener whose accept queue is full and never drained: a connect to
it hangs until the client's connect timeout. Prints its port, then waits."""
import socket
import sys
import time

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
port = s.getsockname()[1]
fillers = []
for _ in range(4):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    fillers.append(c)
time.sleep(0.2)
print(port, flush=True)
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 30)
