"""A loopback stand-in for the Hugging Face Hub: what huggingface_hub's repo_info and snapshot_download use.

It serves model repos held in memory (repo id -> {commit sha -> {filename: bytes}}, oldest commit first;
`main` is the newest) over plain HTTP on 127.0.0.1, with the endpoints and headers the pinned huggingface_hub
(1.16, httpx) reads in `hf_api.HfApi.model_info`, `file_download.get_hf_file_metadata` / `http_get` and
`utils._http.hf_raise_for_status`:

- `GET /api/models/<repo>[/revision/<rev>]`: the model info JSON with `sha` and `siblings` (snapshot_download
  lists the files to fetch from the siblings, so `/api/models/<repo>/tree/...` is never needed);
- `HEAD|GET /<repo>/resolve/<rev>/<file>`: a small ("regular git") file is answered directly with
  `X-Repo-Commit`, `ETag: "<git blob sha1>"` and `Content-Length`; a large ("LFS") file with a 302 whose
  absolute `Location` points at `/cdn-lfs/...` on this server, plus `X-Linked-Etag: "<sha256>"` and
  `X-Linked-Size`, as the real hub does before its CDN;
- `GET /cdn-lfs/<sha256>?repo=<repo>&filename=<file>`: the LFS bytes, honouring `Range: bytes=N-[M]` (206 with
  `Content-Range`, 416 past the end), which is how huggingface_hub resumes a `.incomplete` blob;
- errors as the hub sends them: 404 with `X-Error-Code: RepoNotFound | RevisionNotFound | EntryNotFound` and
  `X-Error-Message` (and a JSON `{"error": ...}` body), which huggingface_hub turns into
  RepositoryNotFoundError, RevisionNotFoundError and RemoteEntryNotFoundError.

It never sends the Xet headers (`X-Xet-Hash`, `X-Xet-Refresh-Route`, a `Link: <...>; rel="xet-auth"`): without
them `parse_xet_file_data_from_response` returns None and huggingface_hub downloads over HTTP even though
hf_xet is installed, so no client needs HF_HUB_DISABLE_XET.

Every request is recorded (method, path, Range header, status, body bytes sent), and one file can be throttled
(a burst, then bytes per second) so that a download can be killed half-way.

Left out: authentication (tokens, gated and private repos: every repo is public, Authorization is ignored),
tags and branches other than `main`, short commit ids, dataset/space repos, `list_repo_tree` / `paths-info`,
uploads, the Xet storage protocol, compression, relative redirects of renamed repos, rate limits (429) and
the real hub's 401-instead-of-404 for a missing repo.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, quote, unquote, urlsplit

# commit sha -> {filename: bytes}, oldest commit first (dicts keep insertion order)
Commits = Mapping[str, Mapping[str, bytes]]
Repos = Mapping[str, Commits]

LFS_THRESHOLD = 1 << 20  # files of at least 1 MiB are served as LFS objects (redirect + X-Linked-* headers)
_CHUNK = 64 * 1024
_STAMP = "2025-01-01T00:00:00.000Z"
_REPO = r"(?P<repo>[^/]+(?:/[^/]+)?)"
_INFO = re.compile(rf"^/api/models/{_REPO}(?:/revision/(?P<rev>[^/]+))?$")
_RESOLVE = re.compile(rf"^/{_REPO}/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
_CDN = re.compile(r"^/cdn-lfs/(?P<oid>[0-9a-f]{64})$")
_RANGE = re.compile(r"^bytes=(?P<start>\d+)-(?P<end>\d*)$")


def commit_sha(repo_id: str, files: Mapping[str, bytes], parent: str = "") -> str:
    """A deterministic 40-hex commit id for a repo's files (and its parent commit)."""
    h = hashlib.sha1(f"{repo_id}\0{parent}".encode())
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Recorded:
    """One request as the stand-in saw it; `sent` counts the body bytes written so far (it grows while
    a throttled body is streamed)."""

    method: str
    path: str
    range: str | None
    filename: str | None = None
    status: int = 0
    sent: int = 0


@dataclass
class _Throttle:
    filename: str
    bytes_per_second: float
    burst: int


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: HubStandin


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hub-standin/1"
    timeout = 30  # an idle keep-alive connection does not hold its thread forever
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # the request log is `HubStandin.requests`
        pass

    def do_GET(self) -> None:
        self.server.standin._handle(self, head=False)

    def do_HEAD(self) -> None:
        self.server.standin._handle(self, head=True)


class HubStandin:
    """The stand-in server; use as a context manager (`with HubStandin(repos) as hub: ... hub.url`)."""

    def __init__(self, repos: Repos, lfs_threshold: int = LFS_THRESHOLD) -> None:
        self._repos = {
            repo: {sha: dict(files) for sha, files in commits.items()} for repo, commits in repos.items()
        }
        self._lfs_threshold = lfs_threshold
        self._lock = threading.Lock()
        self._log: list[Recorded] = []
        self._throttle: _Throttle | None = None
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.standin = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> HubStandin:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # ends throttled bodies still being streamed
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> HubStandin:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- what tests set and read -----------------------------------------------------------------------------

    def main(self, repo_id: str) -> str:
        return list(self._repos[repo_id])[-1]

    def throttle(self, filename: str | None, bytes_per_second: float = 0, burst: int = 0) -> None:
        """Send `filename`'s first `burst` bytes at once, the rest at `bytes_per_second`; None: unthrottle."""
        with self._lock:
            self._throttle = None if filename is None else _Throttle(filename, bytes_per_second, burst)

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return [Recorded(**vars(r)) for r in self._log]

    def clear(self) -> None:
        with self._lock:
            self._log.clear()

    def sent(self, filename: str) -> int:
        """Body bytes of `filename` sent so far, over all requests."""
        with self._lock:
            return sum(r.sent for r in self._log if r.filename == filename and r.method == "GET")

    # -- serving ---------------------------------------------------------------------------------------------

    def _resolve(self, repo_id: str, revision: str) -> tuple[str, dict[str, bytes]] | tuple[int, str, str]:
        commits = self._repos.get(repo_id)
        if commits is None:
            return 404, "RepoNotFound", "Repository not found"
        sha = list(commits)[-1] if revision == "main" else revision
        if sha not in commits:
            return 404, "RevisionNotFound", f"Invalid rev id: {revision}"
        return sha, commits[sha]

    def _handle(self, h: _Handler, head: bool) -> None:
        split = urlsplit(h.path)
        path = split.path
        rec = Recorded(method=h.command, path=h.path, range=h.headers.get("Range"))
        with self._lock:
            self._log.append(rec)
        try:
            if m := _INFO.match(path):
                self._model_info(h, rec, unquote(m["repo"]), unquote(m["rev"] or "main"), head)
            elif m := _RESOLVE.match(path):
                self._file(h, rec, unquote(m["repo"]), unquote(m["rev"]), unquote(m["file"]), head)
            elif m := _CDN.match(path):
                query = parse_qs(split.query)
                repo_id, filename = query.get("repo", [""])[0], query.get("filename", [""])[0]
                self._cdn(h, rec, m["oid"], repo_id, filename, head)
            else:
                self._error(h, rec, 404, None, f"the hub stand-in does not serve {path}")
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            h.close_connection = True  # the client went away (killed) mid-answer

    def _send(
        self, h: _Handler, rec: Recorded, status: int, headers: Mapping[str, str], body: bytes = b""
    ) -> None:
        rec.status = status
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        if "Content-Length" not in headers:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if body and h.command != "HEAD":
            h.wfile.write(body)
            with self._lock:
                rec.sent += len(body)

    def _error(self, h: _Handler, rec: Recorded, status: int, code: str | None, message: str) -> None:
        headers = {"Content-Type": "application/json", "X-Error-Message": message}
        if code is not None:
            headers["X-Error-Code"] = code
        self._send(h, rec, status, headers, json.dumps({"error": message}).encode())

    def _model_info(self, h: _Handler, rec: Recorded, repo_id: str, revision: str, head: bool) -> None:
        found = self._resolve(repo_id, revision)
        if len(found) == 3:
            self._error(h, rec, found[0], found[1], found[2])
            return
        sha, files = found
        info = {
            "_id": hashlib.md5(repo_id.encode()).hexdigest()[:24],
            "id": repo_id,
            "modelId": repo_id,
            "author": repo_id.split("/")[0] if "/" in repo_id else None,
            "sha": sha,
            "lastModified": _STAMP,
            "createdAt": _STAMP,
            "private": False,
            "disabled": False,
            "gated": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "library_name": "transformers",
            "siblings": [{"rfilename": name} for name in files],
            "usedStorage": sum(len(b) for b in files.values()),
        }
        self._send(h, rec, 200, {"Content-Type": "application/json"}, json.dumps(info).encode())

    def _file(
        self, h: _Handler, rec: Recorded, repo_id: str, revision: str, filename: str, head: bool
    ) -> None:
        found = self._resolve(repo_id, revision)
        if len(found) == 3:
            self._error(h, rec, found[0], found[1], found[2])
            return
        sha, files = found
        rec.filename = filename
        data = files.get(filename)
        if data is None:
            headers = {
                "X-Repo-Commit": sha,
                "X-Error-Code": "EntryNotFound",
                "X-Error-Message": "Entry not found",
            }
            self._send(h, rec, 404, headers, b'{"error": "Entry not found"}')
            return
        common = {"X-Repo-Commit": sha, "Accept-Ranges": "bytes"}
        if len(data) >= self._lfs_threshold:
            oid = hashlib.sha256(data).hexdigest()
            location = (
                f"{self.url}/cdn-lfs/{oid}?repo={quote(repo_id, safe='')}&filename={quote(filename, safe='')}"
            )
            headers = {
                **common,
                "Location": location,
                "ETag": f'"{git_blob_sha1(data)}"',  # the pointer file's; X-Linked-Etag wins
                "X-Linked-Etag": f'"{oid}"',
                "X-Linked-Size": str(len(data)),
            }
            self._send(h, rec, 302, headers)
            return
        self._body(h, rec, filename, data, {**common, "ETag": f'"{git_blob_sha1(data)}"'}, head)

    def _cdn(self, h: _Handler, rec: Recorded, oid: str, repo_id: str, filename: str, head: bool) -> None:
        rec.filename = filename or None
        repos = [self._repos[repo_id]] if repo_id in self._repos else list(self._repos.values())
        for commits in repos:
            for files in commits.values():
                for name, data in files.items():
                    if (not filename or name == filename) and hashlib.sha256(data).hexdigest() == oid:
                        self._body(h, rec, name, data, {"ETag": f'"{oid}"', "Accept-Ranges": "bytes"}, head)
                        return
        self._send(h, rec, 404, {"Content-Type": "text/plain"}, b"NoSuchKey")

    def _body(
        self, h: _Handler, rec: Recorded, filename: str, data: bytes, headers: dict[str, str], head: bool
    ) -> None:
        size, start, end, status = len(data), 0, len(data), 200
        if rec.range is not None:
            m = _RANGE.match(rec.range.strip())
            if m is None or int(m["start"]) >= size:
                self._send(h, rec, 416, {"Content-Range": f"bytes */{size}"})
                return
            start = int(m["start"])
            end = min(size, int(m["end"]) + 1) if m["end"] else size
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        rec.status = status
        h.send_response(status)
        for k, v in {"Content-Type": "application/octet-stream", **headers}.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(end - start))
        h.end_headers()
        if head:
            return
        with self._lock:
            throttle = self._throttle if self._throttle and self._throttle.filename == filename else None
        rate = throttle.bytes_per_second if throttle is not None else 0
        burst_left = max(0, throttle.burst - start) if throttle is not None else 0
        paced_since: tuple[float, int] | None = None  # (when, bytes sent) as the burst ran out
        for offset in range(start, end, _CHUNK):  # bounded by the file's size
            if self._stopping.is_set():
                h.close_connection = True
                return
            chunk = data[offset : min(end, offset + _CHUNK)]
            h.wfile.write(chunk)
            with self._lock:
                rec.sent += len(chunk)
                sent = rec.sent
            if rate > 0 and sent > burst_left:
                if paced_since is None:
                    paced_since = (time.monotonic(), sent)
                # wait in short steps so that stop() is not held up
                due = paced_since[0] + (sent - paced_since[1]) / rate
                while (delay := due - time.monotonic()) > 0 and not self._stopping.is_set():
                    time.sleep(min(delay, 0.1))
