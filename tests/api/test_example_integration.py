"""examples/ticketing_tool.py against a live server: it files an incident with an
external_reference, mirrors the incidents by sync (initial load, then updated_after
and the cursor), comments and attaches a file, receives the signed webhook on its own
HTTP server, verifies the signature and the envelope, and prints what it got."""

import json
import subprocess
import sys
import time
from pathlib import Path

from notifications import webhooks
from notifications.models import OutboxMessage

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "ticketing_tool.py"


def test_ticketing_tool_files_an_incident_and_verifies_the_webhook(
    transactional_db, live_server, work_order_a, contact_a, key_a, tmp_path
):
    ready = tmp_path / "ready.json"
    tool = subprocess.Popen(
        [
            sys.executable,
            str(SCRIPT),
            "--api",
            f"{live_server.url}/api/v1",
            "--key",
            "sp_acme_" + "a" * 40,
            "--work-order",
            str(work_order_a.pk),
            "--contact",
            contact_a.email,
            "--ticket",
            "JIRA-4711",
            "--expect",
            "1",
            "--wait",
            "30",
            "--ready-file",
            str(ready),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and tool.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), tool.communicate(timeout=5)[0]
        incident_id = json.loads(ready.read_text())["incident"]
        # What the worker's outbox delivery does: fan out, then deliver.
        for row in OutboxMessage.objects.filter(channel="webhook", event="incident.created"):
            webhooks.fan_out(row)
        assert webhooks.webhooks_deliver_due()["delivered"] == 1
        output, _ = tool.communicate(timeout=30)
    finally:
        if tool.poll() is None:
            tool.kill()
    assert tool.returncode == 0, output
    assert "ref=JIRA-4711" in output
    assert "signature=valid" in output
    assert "received 1 verified webhook(s)" in output
    # The sync loop (API.md Revision 2): initial load by cursor, a comment and an
    # attachment, then updated_after + cursor finds the incident again, edited.
    assert "initial load: 1 incident(s)" in output
    assert "attached mail.log" in output
    assert "ours again=True" in output and "JIRA-4711: mail down" in output
    assert "envelope INVALID" not in output
    assert str(incident_id)
