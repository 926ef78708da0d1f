"""A TLS front for a PostgreSQL server that has none: the embedded server's binaries are built without
OpenSSL (`show ssl_library` is empty) and listen on a unix socket only, while a cloud server requires TLS.

The front listens on 127.0.0.1, answers the client's SSLRequest as a TLS-capable PostgreSQL does ('S',
then the TLS handshake with the given certificate), and relays the decrypted protocol to the real server.
With no certificate it answers 'N', as a server without TLS does. Every session is recorded with whether
it was encrypted and the startup parameters the client sent (user, database, application_name), so a
test can tell which client came through TLS.
"""

import asyncio
import contextlib
import ssl
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from alpha_migrate.dsn import Target

SSL_REQUEST = struct.pack("!ii", 8, 80877103)
GSSENC_REQUEST = struct.pack("!ii", 8, 80877104)
PROTOCOL_3 = 196608
CHUNK = 65536


@dataclass
class Session:
    tls_version: str | None  # None: the session was not encrypted
    startup: dict[str, str] = field(default_factory=dict)


@dataclass
class Front:
    host: str
    port: int
    sessions: list[Session] = field(default_factory=list)
    handshakes: int = 0  # TLS handshakes completed
    failed_handshakes: int = 0  # TLS handshakes the client abandoned (a certificate it did not trust)
    ssl_refused: int = 0  # SSLRequests answered 'N'


def _startup_parameters(message: bytes) -> dict[str, str]:
    """The key/value pairs of a StartupMessage (after its length and protocol version)."""
    if len(message) < 8 or struct.unpack("!i", message[4:8])[0] != PROTOCOL_3:
        return {}
    fields = [f.decode(errors="replace") for f in message[8:].split(b"\0")]
    return {key: value for key, value in zip(fields[0::2], fields[1::2], strict=False) if key}


class _Relay:
    def __init__(self, front: Front, upstream: Target, context: ssl.SSLContext | None):
        self.front = front
        self.upstream = upstream
        self.context = context
        self.tasks: set[asyncio.Task] = set()

    async def open_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        host, port = self.upstream.params.get("host", ""), int(self.upstream.params.get("port", "5432"))
        if host.startswith("/"):
            return await asyncio.open_unix_connection(str(Path(host) / f".s.PGSQL.{port}"))
        return await asyncio.open_connection(host or "localhost", port)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.tasks.add(asyncio.current_task())
        upstream_writer = None
        pumps: list[asyncio.Task] = []
        try:
            first = await reader.readexactly(8)
            tls_version = None
            if first == GSSENC_REQUEST:  # libpq asks for GSSAPI encryption first when it has credentials
                writer.write(b"N")
                first = await reader.readexactly(8)
            if first == SSL_REQUEST:
                if self.context is None:
                    self.front.ssl_refused += 1
                    writer.write(b"N")
                    await writer.drain()
                else:
                    writer.write(b"S")
                    try:
                        await writer.start_tls(self.context)
                    except (ssl.SSLError, ConnectionError):
                        self.front.failed_handshakes += 1
                        return
                    self.front.handshakes += 1
                    tls_version = writer.get_extra_info("ssl_object").version()
                first = b""
            # The StartupMessage: a client refused TLS (sslmode=require) closes instead of sending it.
            head = first or await reader.readexactly(4)
            length = struct.unpack("!i", head[:4])[0]
            startup = head + await reader.readexactly(length - len(head))
            self.front.sessions.append(Session(tls_version, _startup_parameters(startup)))
            upstream_reader, upstream_writer = await self.open_upstream()
            upstream_writer.write(startup)
            pumps = [
                asyncio.create_task(_pump(reader, upstream_writer)),
                asyncio.create_task(_pump(upstream_reader, writer)),
            ]
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass  # the client went away: so does its session
        except asyncio.CancelledError:
            pass  # the front is closing: ending quietly spares asyncio's report of a cancelled handler
        finally:
            for task in pumps:
                task.cancel()
            for stream in (upstream_writer, writer):
                if stream is not None:
                    stream.close()
            self.tasks.discard(asyncio.current_task())


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()


def server_context(cert: Path, key: Path, client_ca: Path | None = None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    if client_ca:
        # As a server whose pg_hba.conf says `hostssl ... cert`: no client certificate, no session.
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(client_ca)
    # PostgreSQL 17's server names its protocol in ALPN, and libpq 17 offers it: answer as that server does.
    context.set_alpn_protocols(["postgresql"])
    return context


@contextlib.contextmanager
def tls_front(
    upstream: Target, cert: Path | None = None, key: Path | None = None, client_ca: Path | None = None
) -> Iterator[Front]:
    """A front on 127.0.0.1 (a free port) for the server `upstream` names (a unix-socket folder or a TCP
    host). With `cert` and `key` it speaks TLS with that certificate, and with `client_ca` requires a
    client certificate that CA signed; without `cert`, it refuses TLS ('N')."""
    context = server_context(cert, key, client_ca) if cert and key else None
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="tls-front", daemon=True)
    thread.start()
    front = Front("127.0.0.1", 0)
    relay = _Relay(front, upstream, context)
    server = asyncio.run_coroutine_threadsafe(asyncio.start_server(relay.serve, front.host, 0), loop).result(10)
    front.port = server.sockets[0].getsockname()[1]
    try:
        yield front
    finally:

        async def shut_down() -> None:
            server.close()
            for task in list(relay.tasks):
                task.cancel()
            await asyncio.gather(*relay.tasks, return_exceptions=True)
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(shut_down(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
