"""moto_server, with each DynamoDB request handled whole before the next.

DynamoDB applies every item write atomically (two concurrent ADDs on one counter
both land); moto's threaded server does not, so under load a conformance test of
concurrent increments could lose one to moto rather than to our adapter. Other
services (SQS long polls, S3) stay concurrent.
"""
import sys
import threading

import moto.server as server

_run_simple = server.run_simple
_dynamodb = threading.Lock()


def _serialise_dynamodb(app):
    def handle(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            with _dynamodb:
                return list(app(environ, start_response))
        return app(environ, start_response)

    return handle


def run_simple(host, port, app, **options):
    _run_simple(host, port, _serialise_dynamodb(app), **options)


server.run_simple = run_simple
server.main(sys.argv[1:])
