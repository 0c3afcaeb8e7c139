"""gunicorn configuration for the documented deployment (docs: README "Production settings"):

    gunicorn -c deploy/gunicorn.conf.py xinyu.wsgi

behind nginx (deploy/nginx.conf) terminating HTTPS. Environment: XINYU_GUNICORN_BIND
(default 127.0.0.1:8000, reachable only by the proxy) and XINYU_GUNICORN_WORKERS (default
2 × CPUs + 1), plus the application's own variables (README).

gunicorn writes `Server: gunicorn` on every answer and offers no setting to drop it; the
response class is patched here so no server banner leaves the process (issue 11 item 11).
Static files are served by WhiteNoise inside the application, so sendfile does not matter.
"""

from __future__ import annotations

import multiprocessing
import os

from gunicorn.http import wsgi as _gunicorn_wsgi

bind = os.environ.get("XINYU_GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("XINYU_GUNICORN_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))
# The proxy on the same host sets X-Forwarded-Proto (settings.SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("XINYU_GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
timeout = 60
accesslog = "-"
# The request line only: no query strings (codes) and no user agent in the access log.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'

_default_headers = _gunicorn_wsgi.Response.default_headers


def _default_headers_without_server(self):  # type: ignore[no-untyped-def]
    return [h for h in _default_headers(self) if not h.lower().startswith("server:")]


_gunicorn_wsgi.Response.default_headers = _default_headers_without_server  # type: ignore[method-assign]
