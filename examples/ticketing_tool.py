#!/usr/bin/env python3
"""A ticketing tool's side of the support portal's API, as such a tool would write it
(standard library only).

It subscribes to incident webhooks, runs a small HTTP server to receive them,
verifies each X-Portal-Signature, files an incident carrying its own ticket id in
`external_reference`, and prints what it got:

    python examples/ticketing_tool.py --api http://127.0.0.1:8000/api/v1 \\
        --key sp_... --work-order 12 --contact bob@acme.example --ticket JIRA-123

It exits after `--expect` webhooks arrived (or `--wait` seconds passed).
"""

import argparse
import hashlib
import hmac
import json
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SIGNATURE_TOLERANCE_SECONDS = 300


def verify_signature(secret: str, header: str, body: bytes) -> bool:
    """X-Portal-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
        return False  # an old signature: a replay
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


class Portal:
    """A minimal client of /api/v1/."""

    def __init__(self, base: str, key: str):
        self.base = base.rstrip("/")
        self.key = key

    def call(
        self, method: str, path: str, body: dict | None = None, headers: dict | None = None
    ) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base}{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.key}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise SystemExit(
                f"{method} {path} failed: {exc.code} {exc.read().decode()[:500]}"
            ) from exc
        return json.loads(raw) if raw else {}


def serve_webhooks(secret_box: dict, received: list, port: int = 0) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            ok = verify_signature(
                secret_box.get("secret", ""), self.headers.get("X-Portal-Signature", ""), body
            )
            delivery = self.headers.get("X-Portal-Delivery", "")
            if ok and delivery not in {
                r["delivery"] for r in received
            }:  # drop repeats (at-least-once delivery)
                event = json.loads(body)
                received.append(
                    {
                        "delivery": delivery,
                        "event": self.headers.get("X-Portal-Event"),
                        "body": event,
                    }
                )
                print(
                    f"webhook {self.headers.get('X-Portal-Event')} delivery={delivery} signature=valid "
                    f"incident={event['data'].get('number')} ref={event['data'].get('external_reference')}",
                    flush=True,
                )
            elif not ok:
                print(f"webhook delivery={delivery} signature=INVALID: rejected", flush=True)
            self.send_response(204 if ok else 401)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", required=True, help="e.g. http://127.0.0.1:8000/api/v1")
    parser.add_argument("--key", required=True)
    parser.add_argument("--work-order", type=int, required=True)
    parser.add_argument("--contact", required=True)
    parser.add_argument("--ticket", default=f"TOOL-{uuid.uuid4().hex[:6]}")
    parser.add_argument("--expect", type=int, default=1, help="stop after this many webhooks")
    parser.add_argument("--wait", type=float, default=30.0, help="give up after this many seconds")
    parser.add_argument(
        "--ready-file", help="write the webhook URL here once listening (for tests)"
    )
    args = parser.parse_args(argv)

    portal = Portal(args.api, args.key)
    received: list = []
    secret_box: dict = {}
    server = serve_webhooks(secret_box, received)
    url = f"http://127.0.0.1:{server.server_port}/portal-webhooks"
    subscription = portal.call(
        "POST", "/webhooks/", {"url": url, "events": ["incident.created", "incident.updated"]}
    )
    secret_box["secret"] = subscription["secret"]  # shown once: a real tool stores it
    print(f"subscribed {url} as webhook {subscription['id']}", flush=True)

    incident = portal.call(
        "POST",
        "/incidents/",
        {
            "work_order": args.work_order,
            "contact": args.contact,
            "title": f"Ticket {args.ticket}: mail is down",
            "severity": "normal",
            "external_reference": args.ticket,
        },
        headers={"Idempotency-Key": f"create-{args.ticket}"},  # safe to retry
    )
    print(
        f"filed {incident['number']} ref={incident['external_reference']} due={incident['response_due_at']}",
        flush=True,
    )
    if args.ready_file:
        with open(args.ready_file, "w") as fh:
            fh.write(json.dumps({"url": url, "incident": incident["id"]}))

    deadline = time.monotonic() + args.wait
    while len(received) < args.expect and time.monotonic() < deadline:
        time.sleep(0.05)
    portal.call("DELETE", f"/webhooks/{subscription['id']}/")
    server.shutdown()
    print(f"received {len(received)} verified webhook(s)", flush=True)
    return 0 if len(received) >= args.expect else 1


if __name__ == "__main__":
    sys.exit(main())
