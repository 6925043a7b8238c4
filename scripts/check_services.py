"""Fails loudly when the PostgreSQL or Redis the tests need is unreachable.

Creates the test database's maintenance database if it is missing, so a fresh
PostgreSQL with trust auth needs nothing else.
"""

import os
import sys
from urllib.parse import urlparse

import psycopg2
import redis


def main() -> int:
    db_url = os.environ["DATABASE_URL"]
    parsed = urlparse(db_url)
    dbname = parsed.path.lstrip("/") or "portal"
    try:
        conn = psycopg2.connect(
            host=parsed.hostname,
            port=parsed.port or 5432,
            user=parsed.username or "postgres",
            password=parsed.password,
            dbname="postgres",
            connect_timeout=5,
        )
    except psycopg2.OperationalError as exc:
        print(
            f"PostgreSQL at {parsed.hostname}:{parsed.port} is unreachable: {exc}", file=sys.stderr
        )
        return 1
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{dbname}"')
    conn.close()
    try:
        redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        print(f"Redis at {os.environ['REDIS_URL']} is unreachable: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
