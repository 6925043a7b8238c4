"""portal.kombu_fix: a lost broker connection does not end the worker (bench/faults.py's
Redis outage ended it in about 1 run of 3 before)."""

from types import SimpleNamespace

import pytest
from kombu.transport import redis as kombu_redis
from kombu.transport.virtual import base as virtual_base

from portal import kombu_fix


def _qos(client):
    qos = object.__new__(kombu_redis.QoS)
    # The transport's client is what kombu's _connparams reads; None once the connection died.
    qos.channel = SimpleNamespace(connection=SimpleNamespace(client=client))
    qos._delivered = {}
    qos._dirty = set()
    qos._quick_ack = qos._dirty.add  # as kombu's QoS.__init__ sets it
    return qos


def _lost(*args, **kwargs):
    raise AttributeError("'NoneType' object has no attribute 'hostname'")


def test_a_restore_or_an_ack_on_a_dead_connection_is_skipped(monkeypatch):
    monkeypatch.setattr(kombu_redis.QoS, "restore_unacked", _lost)
    monkeypatch.setattr(kombu_redis.QoS, "ack", _lost)
    kombu_fix.install()
    dead = _qos(client=None)
    dead._delivered["tag-1"] = object()
    dead.restore_unacked()  # logged, not raised
    dead.ack("tag-1")  # logged, and marked done here as kombu's own ack does
    assert "tag-1" in dead._dirty


def test_the_same_error_with_a_live_connection_still_shows(monkeypatch):
    monkeypatch.setattr(kombu_redis.QoS, "restore_unacked", _lost)
    monkeypatch.setattr(kombu_redis.QoS, "ack", _lost)
    kombu_fix.install()
    alive = _qos(client=object())
    with pytest.raises(AttributeError):
        alive.restore_unacked()
    with pytest.raises(AttributeError):
        alive.ack("tag-1")


def test_the_worker_app_installs_it():
    import portal.celery  # noqa: F401

    assert getattr(kombu_redis.QoS.restore_unacked, "portal_fix", False)
    assert kombu_redis.QoS.ack is not virtual_base.QoS.ack
