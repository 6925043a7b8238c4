#!/usr/bin/env python3
"""A ticketing tool's side of the support portal's API, as such a tool would write it
(standard library only).

It subscribes to incident webhooks, runs a small HTTP server to receive them,
verifies each X-Portal-Signature, files an incident carrying its own ticket id in
`external_reference`, and prints what it got:

    python examples/ticketing_tool.py --api http://127.0.0.1:8000/api/v1 \\
        --key sp_... --work-order 12 --contact bob@acme.example --ticket JIRA-123

Then it mirrors the customer's incidents the way API.md's "Sync" section says: an
initial load (`?ordering=updated_at`, following the opaque cursor in `next`), a public
comment and an attachment on its incident, and an incremental sync
(`?updated_after=<highest updated_at seen>` with the cursor) that finds the incident
again with its new state. Every webhook is checked against the one envelope
(`{"id", "event", "created_at", "data"}`, the incident in `data` as its GET returns it).

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
import urllib.parse
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

    def upload(self, path: str, name: str, content: bytes, content_type: str) -> dict:
        """A multipart/form-data POST of one file in the field `file`."""
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{name}"\r\nContent-Type: {content_type}\r\n\r\n'
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        request = urllib.request.Request(
            f"{self.base}{path}",
            data=body,
            method="POST",
            headers={
                "Authorization": f"Bearer {self.key}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise SystemExit(f"upload failed: {exc.code} {exc.read().decode()[:500]}") from exc

    def walk(self, params: dict) -> list[dict]:
        """Every row of /incidents/ for `params`, following the cursor in `next`."""
        query = "&".join(f"{k}={urllib.parse.quote(str(v))}" for k, v in params.items())
        page = self.call("GET", f"/incidents/?{query}")
        rows = list(page["results"])
        while page["next"]:
            page = self.call("GET", page["next"][len(self.base) :])
            rows += page["results"]
        return rows


class Mirror:
    """The tool's copy of the portal's incidents, kept by sync."""

    def __init__(self, portal: Portal):
        self.portal = portal
        self.rows: dict[int, dict] = {}
        self.high_water: str | None = None

    def sync(self, page_size: int = 2) -> list[dict]:
        params = {"ordering": "updated_at", "page_size": page_size}
        if self.high_water is not None:
            params["updated_after"] = self.high_water
        rows = self.portal.walk(params)
        for row in rows:
            self.rows[row["id"]] = row
            self.high_water = max(self.high_water or row["updated_at"], row["updated_at"])
        return rows


ENVELOPE_KEYS = {"id", "event", "created_at", "data"}


def envelope_problems(event: dict) -> list[str]:
    """What is wrong with a webhook body against the one envelope (empty: nothing)."""
    problems = [f"missing {k}" for k in sorted(ENVELOPE_KEYS - set(event))]
    extra = set(event) - ENVELOPE_KEYS - {"detail"}
    problems += [f"unexpected {k}" for k in sorted(extra)]
    if event.get("event", "").startswith("incident."):
        data = event.get("data") or {}
        problems += [
            f"data lacks {k}" for k in ("id", "number", "version", "updated_at") if k not in data
        ]
    return problems


def serve_webhooks(secret_box: dict, received: list, port: int = 0) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            ok = verify_signature(
                secret_box.get("secret", ""), self.headers.get("X-Portal-Signature", ""), body
            )
            delivery = self.headers.get("X-Portal-Delivery", "")
            if ok and envelope_problems(json.loads(body)):
                print(
                    f"webhook delivery={delivery} envelope INVALID: "
                    f"{envelope_problems(json.loads(body))}",
                    flush=True,
                )
                ok = False
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
    # Sync: the initial load, every page by the cursor.
    mirror = Mirror(portal)
    loaded = mirror.sync()
    print(f"initial load: {len(loaded)} incident(s), high-water {mirror.high_water}", flush=True)
    # The conversation: a public comment and an attachment on the tool's incident.
    comment = portal.call(
        "POST",
        f"/incidents/{incident['id']}/comments/",
        {"body": f"Update from {args.ticket}: users cannot send mail."},
        headers={"Idempotency-Key": f"comment-{args.ticket}"},
    )
    attachment = portal.upload(
        f"/incidents/{incident['id']}/attachments/", "mail.log", b"550 relay denied\n", "text/plain"
    )
    print(f"commented {comment['id']} attached {attachment['name']}", flush=True)
    # A change on the portal's side (here: our own edit) comes back by incremental sync.
    portal.call("PATCH", f"/incidents/{incident['id']}/", {"title": f"{args.ticket}: mail down"})
    changed = mirror.sync()
    again = [row for row in changed if row["id"] == incident["id"]]
    print(
        f"incremental sync: {len(changed)} changed, ours again={bool(again)} "
        f"title={again[0]['title'] if again else None!r}",
        flush=True,
    )
    if not again:
        return 1
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
