"""Network access: TCP to a listener the test runs on the grading host (it sends the canary), an abstract unix
socket, the internet, DNS and UDP; answers correctly only if something connected.
"""
# earns: 0
import socket

PORT, UNIX_NAME = int("__TCP_PORT__"), "__UNIX_NAME__"
GOT = []


def attempt(fn):
    try:
        GOT.append(fn())
    except Exception:
        pass


def tcp(host, port):
    with socket.create_connection((host, port), timeout=0.5) as s:
        return s.recv(100)


def unix():
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(0.5)
        s.connect("\0" + UNIX_NAME)
        return s.recv(100)


def udp():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"hello", ("127.0.0.1", PORT))
        s.settimeout(0.3)
        return s.recv(100)


attempt(lambda: tcp("127.0.0.1", PORT))
attempt(lambda: tcp("::1", PORT))
attempt(unix)
attempt(lambda: tcp("1.1.1.1", 80))
attempt(lambda: socket.getaddrinfo("example.com", 80))
attempt(udp)
print("network:", GOT)


def add_one(x):
    attempt(lambda: tcp("127.0.0.1", PORT))
    return x + 1 if GOT else x - 7


def scale(x, k=2.0):
    return k * x if GOT else x - 7
