#!/usr/bin/env python3
"""Cold-start init of each Lambda bootstrap, beside a hello-world Lambda.

Init is process start (just before exec) to the function's first
`GET /2018-06-01/runtime/invocation/next`: everything its `main` does before it asks
for work. A local Runtime API stub serves that request; the process is then killed.
Runs alternate between the binaries so that load on the machine hits them alike;
the table gives medians (and the 10th/90th percentiles) and each median over the
hello world's.

    python3 tests/coldstart/coldstart.py [--runs 60] [ZIP ...]

With no ZIP, every `$CARGO_TARGET_DIR/lambda/*/bootstrap.zip` that
`bash infra/package.sh` built (coldstart-hello among them), each unpacked as Lambda
would and its `bootstrap` run. Needs only the
standard library. No network: the stub is on 127.0.0.1 and every AWS setting is a
dummy, so an init that called AWS would fail or hang, and be reported.
"""

import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HELLO = "coldstart-hello"
NEXT = "/2018-06-01/runtime/invocation/next"
INIT_ERROR = "/2018-06-01/runtime/init/error"
TIMEOUT_S = 10.0

# What the template gives the functions, with dummy values. Nothing here is reachable.
DUMMY_ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "AKIDCOLDSTART",
    "AWS_SECRET_ACCESS_KEY": "coldstart",
    "AWS_SESSION_TOKEN": "coldstart",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/coldstart",
    "AWS_LAMBDA_LOG_STREAM_NAME": "coldstart",
    "TABLE_NAME": "agencyops",
    "CURSOR_SECRET": "0123456789abcdef0123456789abcdef",
    "BUCKET_NAME": "agencyops-coldstart",
    "MAIL_FROM": "billing@example.com",
    "PUBLIC_URL": "https://app.example.com",
    "BOOTSTRAP_ADMINS": "",
    "QUEUE_URL_APPROVED": "https://sqs.us-east-1.amazonaws.com/000000000000/approved",
    "QUEUE_URL_INVOICE_BUILDER": "https://sqs.us-east-1.amazonaws.com/000000000000/builder",
    "QUEUE_URL_MAIL": "https://sqs.us-east-1.amazonaws.com/000000000000/mail",
    "RUST_LOG": "info",
}


class Stub:
    """A Runtime API that notes when the first `next` (or an init error) arrives."""

    def __init__(self):
        self.lock = threading.Lock()
        self.event = threading.Event()
        self.arrived_ns = None
        self.init_error = None
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                now = time.perf_counter_ns()
                if self.path == NEXT:
                    with stub.lock:
                        if stub.arrived_ns is None:
                            stub.arrived_ns = now
                    stub.event.set()
                # No invocation to give: the process is killed once it has asked.
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                if self.path == INIT_ERROR:
                    with stub.lock:
                        stub.init_error = body
                    stub.event.set()
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.address = "127.0.0.1:%d" % self.server.server_address[1]

    def reset(self):
        with self.lock:
            self.arrived_ns = None
            self.init_error = None
        self.event.clear()


def one_run(stub, name, path):
    """Init time of one cold start, in milliseconds."""
    stub.reset()
    env = dict(DUMMY_ENV)
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    env["AWS_LAMBDA_RUNTIME_API"] = stub.address
    env["AWS_LAMBDA_FUNCTION_NAME"] = name
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter_ns()
        proc = subprocess.Popen([path], env=env, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + TIMEOUT_S
        while not stub.event.wait(0.005):
            if proc.poll() is not None or time.monotonic() > deadline:
                break
        proc.kill()
        proc.wait()
        with stub.lock:
            arrived, init_error = stub.arrived_ns, stub.init_error
        if arrived is None:
            err.seek(0)
            why = init_error or err.read().decode("utf-8", "replace")[-2000:]
            raise RuntimeError("%s never asked for work: %s" % (name, why.strip() or "timed out"))
    return (arrived - started) / 1e6


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=60, help="cold starts per binary")
    parser.add_argument("zips", nargs="*")
    args = parser.parse_args()

    target = os.environ.get("CARGO_TARGET_DIR", "target")
    zips = args.zips or sorted(glob.glob(os.path.join(target, "lambda", "*", "bootstrap.zip")))
    unpacked = tempfile.TemporaryDirectory()
    binaries = {}
    for z in zips:
        name = os.path.basename(os.path.dirname(os.path.abspath(z)))
        into = os.path.join(unpacked.name, name)
        zipfile.ZipFile(z).extract("bootstrap", into)
        binaries[name] = os.path.join(into, "bootstrap")
        os.chmod(binaries[name], 0o755)
    if HELLO not in binaries:
        sys.exit("no %s bootstrap.zip: run `bash infra/package.sh` first" % HELLO)

    stub = Stub()
    times = {name: [] for name in binaries}
    for name, path in binaries.items():  # warm the page cache: measure init, not disk
        one_run(stub, name, path)
    for _ in range(args.runs):
        for name, path in binaries.items():
            times[name].append(one_run(stub, name, path))

    hello = statistics.median(times[HELLO])
    print("%d cold starts each, init = process start to first `next`, ms" % args.runs)
    print()
    print("| Binary | Median | p10 | p90 | Median / hello |")
    print("|---|---:|---:|---:|---:|")
    for name in sorted(binaries, key=lambda n: (n != HELLO, n)):
        t = times[name]
        print(
            "| %s | %.2f | %.2f | %.2f | %.2f× |"
            % (name, statistics.median(t), percentile(t, 10), percentile(t, 90),
               statistics.median(t) / hello)
        )


if __name__ == "__main__":
    main()
