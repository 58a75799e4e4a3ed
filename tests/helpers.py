"""Small helpers shared by test modules."""

from __future__ import annotations

import socket


def refuse_network(monkeypatch, what: str):
    """Make any connection attempt fail the test; returns the refusing callable to patch in elsewhere."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"{what} tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return refuse
