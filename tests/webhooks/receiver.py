"""A webhook receiver on loopback that checks every delivery with the
Standard Webhooks library (PyPI `standardwebhooks`), not with appdeck's code.

    receiver.py SECRETS_FILE RECORD_FILE

SECRETS_FILE is a JSON object from a request path to the `whsec_...` secret
of the endpoint at that path; it is read again on every request, so that
endpoints made after the receiver started can be added to it. Each request
is answered 204 when its signature verifies and 400 otherwise, and appended
to RECORD_FILE as one JSON line: path, webhook-id, webhook-timestamp,
whether it verified (with the library's error if not) and the payload.

The first line on stdout is `listening on http://127.0.0.1:PORT`.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Lock

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

secrets_file, record_file = sys.argv[1], sys.argv[2]
record_lock = Lock()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        with open(secrets_file) as secrets:
            secret = json.load(secrets).get(self.path)
        record = {
            "path": self.path,
            "webhook_id": headers.get("webhook-id"),
            "webhook_timestamp": headers.get("webhook-timestamp"),
            "content_type": headers.get("content-type"),
        }
        try:
            if secret is None:
                raise WebhookVerificationError(f"no secret for {self.path}")
            record["payload"] = Webhook(secret).verify(body, headers)
            record["verified"] = True
        except WebhookVerificationError as error:
            record["verified"] = False
            record["error"] = str(error)
        with record_lock, open(record_file, "a") as records:
            records.write(json.dumps(record) + "\n")
        self.send_response(204 if record["verified"] else 400)
        self.end_headers()

    def log_message(self, format, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
