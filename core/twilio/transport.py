"""The HTTP transport of our twilio REST clients: twilio's HttpClient interface on urllib3 directly.

twilio's own TwilioHttpClient goes through requests, which for every request reads the proxy and CA-bundle
environment again, merges sessions, cookies and hooks, and checks its arguments against runtime protocols: about
half of the CPU an SMS costs the dispatcher. This transport sends the same requests (twilio builds the URL, the
headers and the form; we only encode and send them) over urllib3's kept-alive connections, reading the
environment once per host, as requests would read it: HTTP(S)_PROXY or ALL_PROXY with their credentials, NO_PROXY
by host or host:port (not by address range), REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, else certifi's bundle.
Answers are asked for uncompressed (requests asks for gzip): Twilio's answer to a send is about a kilobyte.
Never retried: a POST that reached Twilio must not be sent twice (the dispatcher reconciles instead). Connection
failures and timeouts raise ConnectionError (an OSError, as requests' errors are).
"""
from __future__ import annotations

import json
import logging
import os
import threading
import urllib.request
from urllib.parse import unquote, urlencode, urlsplit

import urllib3
from twilio.http import HttpClient
from twilio.http.response import Response

log = logging.getLogger("twilio.http_client")
POOL_SIZE = 10  # connections kept per host (requests' default): a client is normally used by one thread
JSON_TYPES = ("application/json", "application/scim+json")


class Urllib3HttpClient(HttpClient):
    def __init__(self, timeout: float | None = None):
        super().__init__(log, False, timeout)
        self._managers: dict[tuple[str, str], urllib3.PoolManager] = {}
        self._lock = threading.Lock()

    def request(self, method: str, url: str, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects: bool = False) -> Response:
        if timeout is not None and timeout <= 0:
            raise ValueError(timeout)
        timeout = self.timeout if timeout is None else timeout
        method, headers = method.upper(), dict(headers or {})
        self.log_request({"method": method, "url": url, "params": params, "headers": headers})
        if auth is not None:
            headers.update(urllib3.make_headers(basic_auth=f"{auth[0]}:{auth[1]}"))
        params = {name: value for name, value in (params or {}).items() if value is not None}
        if params:
            url += ("&" if urlsplit(url).query else "?") + urlencode(params, doseq=True)
        try:
            answer = self._manager(url).request(
                method, url, body=_body(headers, data), headers=headers, redirect=allow_redirects, retries=False,
                timeout=urllib3.Timeout(connect=timeout, read=timeout) if timeout else urllib3.Timeout())
        except urllib3.exceptions.HTTPError as exc:
            raise ConnectionError(f"{method} {urlsplit(url).netloc}: {exc}") from exc
        response = Response(answer.status, answer.data.decode("utf-8", "replace"), answer.headers)
        self.log_response(answer.status, response)
        self._test_only_last_response = response
        return response

    def _manager(self, url: str) -> urllib3.PoolManager:
        """The connection pool for the URL's host: through the environment's proxy unless NO_PROXY spares it."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        manager = self._managers.get(key)
        if manager is None:
            with self._lock:
                manager = self._managers.get(key) or _manager_for(parts.scheme, parts.netloc)
                self._managers[key] = manager
        return manager


def _body(headers: dict, data) -> str | None:
    if data is None:
        return None
    if headers.get("Content-Type") in JSON_TYPES:
        return json.dumps(data)
    return urlencode(data, doseq=True)


def _manager_for(scheme: str, netloc: str) -> urllib3.PoolManager:
    tls = {}
    if scheme == "https":
        bundle = _ca_bundle()
        tls = {"ca_cert_dir": bundle} if os.path.isdir(bundle) else {"ca_certs": bundle}
    proxy = _proxy_for(scheme, netloc)
    if proxy is None:
        return urllib3.PoolManager(maxsize=POOL_SIZE, **tls)
    credentials = urllib3.util.parse_url(proxy).auth
    headers = urllib3.make_headers(proxy_basic_auth=unquote(credentials)) if credentials else None
    return urllib3.ProxyManager(proxy, proxy_headers=headers, maxsize=POOL_SIZE, **tls)


def _proxy_for(scheme: str, netloc: str) -> str | None:
    """The environment's proxy for this scheme (else ALL_PROXY), unless NO_PROXY names the host (or host:port);
    as requests reads it, a proxy written without a scheme is an http:// one."""
    proxies = urllib.request.getproxies()
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(netloc):
        return None
    return proxy if "://" in proxy else "http://" + proxy


def _ca_bundle() -> str:
    configured = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if configured:
        return configured
    import certifi

    return certifi.where()
