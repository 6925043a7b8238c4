"""A worker that survives a Redis restart (kombu 5.7's Redis transport).

When Redis drops while the worker holds unacknowledged messages, Celery closes the
connection and kombu's Redis QoS restores those messages, through a connection pool it
builds from the transport's client, which the failed connection has already cleared:
`AttributeError: 'NoneType' object has no attribute 'hostname'` in `_connparams`; a task
that finishes just after acknowledges through the same dead channel and fails the same
way. Celery reports either as an "Unrecoverable error" and the worker exits (bench/faults.py saw it in
about 1 run of 3; production's restart policy hid it). Restoring cannot work while the
broker is gone anyway: the messages stay in Redis's unacked index and kombu's
`restore_visible` puts them back after the visibility timeout, and the outbox in PostgreSQL
is what the portal delivers from in any case. A task acknowledged on the dead channel runs again after
that timeout, which the portal's tasks allow (they claim their rows before acting). So a
restore or an acknowledgement without a client is logged and skipped, and the worker goes
on to reconnect.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def install() -> None:
    from kombu.transport import redis as kombu_redis
    from kombu.transport.virtual import base as virtual_base

    original = kombu_redis.QoS.restore_unacked
    original_ack = kombu_redis.QoS.ack
    if getattr(original, "portal_fix", False):
        return

    def restore_unacked(self, client=None):
        try:
            return original(self, client)
        except AttributeError:
            if getattr(self.channel.connection, "client", None) is not None:
                raise  # not the lost-connection case: a real bug, let it show
            logger.warning(
                "broker connection lost with %d unacknowledged message(s): Redis restores "
                "them after the visibility timeout",
                len(self._delivered),
            )

    def ack(self, delivery_tag):
        try:
            return original_ack(self, delivery_tag)
        except AttributeError:
            if getattr(self.channel.connection, "client", None) is not None:
                raise
            logger.warning(
                "broker connection lost before a message was acknowledged: Redis restores "
                "it after the visibility timeout"
            )
            virtual_base.QoS.ack(self, delivery_tag)  # forget it here, as kombu's ack does

    restore_unacked.portal_fix = True
    kombu_redis.QoS.restore_unacked = restore_unacked
    kombu_redis.QoS.ack = ack
