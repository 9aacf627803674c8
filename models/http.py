"""JSON over HTTP for model servers: retries with exponential backoff on 429/5xx and dropped connections,
and typed errors for every other 4xx that carry the server's own reason."""

from __future__ import annotations

import time
from typing import Any

import httpx

from ratiocinator.errors import BackendUnavailable, InvalidInput, UnsupportedFeature

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


class JSONClient:
    """An httpx.Client with the retry policy; `api_key_env` names where a refused key should come from."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        api_key_env: str,
        timeout_s: float,
        connect_timeout_s: float,
        max_retries: int,
        backoff_s: float,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.base_url, self.api_key_env = base_url, api_key_env
        self.max_retries, self.backoff_s = max_retries, backoff_s
        self.http = httpx.Client(
            base_url=base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
        )

    def refusal(self, url: str, r: httpx.Response) -> Exception:
        """The typed error for a 4xx answer, naming the endpoint and the server's message."""
        try:
            body = r.json()
            err = body.get("error", body)
            msg = err.get("message", err) if isinstance(err, dict) else err
        except ValueError:
            msg = r.text[:500]
        what = f"{url} refused the request (HTTP {r.status_code}): {msg}"
        if r.status_code in (401, 403):
            return InvalidInput(f"{what}. Set ${self.api_key_env} to a valid API key.")
        if r.status_code == 404:
            return UnsupportedFeature(f"{what}. The server has no such endpoint or model.")
        return InvalidInput(what)

    def send(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, stream: bool = False
    ) -> httpx.Response:
        """One request, retried on 429/5xx/connection errors (honouring Retry-After); raises on other 4xx."""
        url = path if path.startswith("http") else self.base_url + path
        last = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                r = self.http.send(self.http.build_request(method, url, json=body), stream=stream)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if r.status_code < 400:
                return r
            if stream:
                r.read()
            if r.status_code in RETRY_STATUS:
                last = f"HTTP {r.status_code}: {r.text[:300]}"
                wait = r.headers.get("retry-after", "")
                if wait.replace(".", "", 1).isdigit():
                    time.sleep(min(float(wait), 30.0))
                continue
            raise self.refusal(url, r)
        raise BackendUnavailable(f"{url}: no answer after {self.max_retries + 1} tries ({last})")

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.send(method, path, body).json()

    def close(self) -> None:
        self.http.close()
