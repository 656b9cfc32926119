"""The web side of issue 19 (Low 10-12): waitress's own error answers carry the security headers,
/opensearch.xml never takes its addresses from the Host header, article ids are percent-encoded
in links so that a browser never resolves their dot segments elsewhere."""

import re
import socket
import subprocess
import sys
import threading
import time
from html import unescape
from urllib.parse import unquote, urljoin

import pytest

from index.writer import index_articles
from tests.conftest import write_jsonl
from webui.app import SECURITY_HEADERS, create_app

TRICKY_IDS = ["a/b/../c", "../../etc/passwd", "a/c", "./x", "có dấu?#&%2F"]


@pytest.fixture(scope="module")
def tricky_index(tmp_path_factory):
    """Articles whose ids look like paths; "a/c" is where a browser would resolve "a/b/../c"."""
    folder = tmp_path_factory.mktemp("tricky")
    records = [{"id": article_id, "title": f"Nông dân số {n} thu hoạch lúa", "body": f"Bài {n}: mùa vụ bội thu."}
               for n, article_id in enumerate(TRICKY_IDS)]
    index_articles([write_jsonl(folder / "r.jsonl", records)], folder / "ix", workers=1)
    return folder / "ix"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tricky_index):
    """`vnsearch serve` on the tricky index: its base URL."""
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "webui.cli", "--index-dir", str(tricky_index), "serve",
                               "--port", str(port), "--processes", "1", "--threads", "2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
            time.sleep(0.2)
    yield port
    server.terminate()
    server.wait(30)


def raw_request(port, data):
    """Send `data` as is and return (status, {header: value}, body) of the answer (read while sending:
    the server may answer and close before it has read all of `data`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        sender = threading.Thread(target=_send, args=(s, data), daemon=True)
        sender.start()
        answer = b""
        try:
            while chunk := s.recv(65536):
                answer += chunk
        except ConnectionResetError:  # after the answer: the server closed with `data` unread
            pass
        sender.join(30)
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def _send(s, data):
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    except OSError:  # the server answered and closed first
        pass


@pytest.mark.parametrize("request_bytes, status", [
    (b"NOT A REQUEST LINE\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n", 431),
    (b"POST /search HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nxx\r\n0\r\n\r\n", 400),
])
def test_what_waitress_answers_itself_carries_the_security_headers(served, request_bytes, status):
    got, headers, _ = raw_request(served, request_bytes)
    assert got == status
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, (name, headers)


def test_a_served_page_carries_them_as_before(served):
    got, headers, _ = raw_request(served, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert got == 200 and all(headers.get(name) == value for name, value in SECURITY_HEADERS.items())


def test_opensearch_never_takes_its_addresses_from_the_host_header(served, tricky_index):
    _, _, body = raw_request(served, b"GET /opensearch.xml HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
    text = body.decode("utf-8")
    assert "evil.example" not in text and 'template="/search?q={searchTerms}"' in text
    client = create_app({"INDEX_DIR": str(tricky_index), "TESTING": True,
                         "BASE_URL": "https://tin.example.vn/"}).test_client()
    text = client.get("/opensearch.xml", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "evil.example" not in text and 'template="https://tin.example.vn/search?q={searchTerms}"' in text


def _hit_links(html):
    return [unescape(href) for href in re.findall(r'class="hit-title"[^>]*><a href="([^"]+)"', html)]


def test_article_links_keep_dot_segments_and_reach_the_right_article(served):
    _, _, body = raw_request(served, "GET /search?q=n%C3%B4ng+d%C3%A2n&limit=20 HTTP/1.1\r\nHost: x\r\n"
                                     "Connection: close\r\n\r\n".encode())
    links = _hit_links(body.decode("utf-8"))
    assert len(links) == len(TRICKY_IDS)
    for link in links:
        path = link.split("?")[0]
        assert path.startswith("/article/") and "/" not in path[len("/article/"):]  # the id is one segment
        assert urljoin("http://127.0.0.1/search", link) == "http://127.0.0.1" + link  # as a browser resolves it
    by_id = {unquote(link.split("?")[0][len("/article/"):]): link for link in links}
    assert set(by_id) == set(TRICKY_IDS)
    for article_id, link in by_id.items():  # followed as a browser would: the article with that id
        status, _, page = raw_request(served, f"GET {link} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        number = TRICKY_IDS.index(article_id)
        assert status == 200 and f"Nông dân số {number} thu hoạch lúa" in page.decode("utf-8"), article_id
