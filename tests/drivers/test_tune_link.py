"""StationDriver.tune_link: Nagle off by reaching into pyvisa-py's socket, only where
pyvisa-py is the VISA backend."""

from __future__ import annotations

import socket

import pyvisa

from pcsdaq.driver_support import StationDriver, uses_pyvisa_py


class _Link(StationDriver):
    def __init__(self, connection):
        self.adapter = type("Adapter", (), {"connection": connection})()


class _OtherVisaLib:
    """Stands for NI-VISA's library object: it has no pyvisa-py sessions to reach into."""

    @property
    def sessions(self):
        raise AssertionError("tune_link reached into a non-pyvisa-py library")


class _Connection:
    resource_class = "SOCKET"
    session = 1

    def __init__(self, visalib):
        self.visalib = visalib
        self.attributes = []

    def set_visa_attribute(self, name, value):
        self.attributes.append((name, value))


def test_pyvisa_py_is_recognised():
    rm = pyvisa.ResourceManager("@py")
    try:
        assert uses_pyvisa_py(rm)
    finally:
        rm.close()
    assert not uses_pyvisa_py(_Connection(_OtherVisaLib()))


def test_another_visa_library_is_left_alone():
    conn = _Connection(_OtherVisaLib())
    _Link(conn).tune_link()
    assert conn.attributes == []


def test_pyvisa_py_socket_gets_nodelay():
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    try:
        rm = pyvisa.ResourceManager("@py")
        session = type("Session", (), {"interface": client})()
        rm.visalib.sessions[12345] = session
        conn = _Connection(rm.visalib)
        conn.session = 12345
        assert client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        _Link(conn).tune_link()
        assert client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        del rm.visalib.sessions[12345]
        rm.close()
    finally:
        client.close()
        server.close()
