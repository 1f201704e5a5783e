"""The example's app: answers every GET with a greeting; the pod that served it is in a header."""
import os
from http.server import BaseHTTPRequestHandler, HTTPServer


class Greeter(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from the greeter"
        self.send_response(200)
        self.send_header("X-Served-By", os.environ.get("HOSTNAME", "?"))
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


HTTPServer(("", 8000), Greeter).serve_forever()
