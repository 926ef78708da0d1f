"""Throwaway certificates for the TLS tests, made with the `openssl` command (the project does not depend
on the `cryptography` package): a CA, a server certificate it signs, and an unrelated CA."""

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# P-256 keys: generated in milliseconds, where RSA keys take a noticeable part of a second each.
KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
DAYS = "2"


@dataclass(frozen=True)
class Certificates:
    ca: Path  # the CA that signed the server's certificate: a client's sslrootcert
    other_ca: Path  # a CA that signed nothing here: verification against it must fail
    server_cert: Path
    server_key: Path
    client_cert: Path  # for the user `postgres`, signed by `ca`: a client's sslcert
    client_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {result.stderr.strip()}")


def _make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    _openssl(
        "req", "-x509", *KEY, "-days", DAYS, "-keyout", key.name, "-out", cert.name,
        "-subj", f"/CN=Alpha test {name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )  # fmt: skip
    return cert, key


def _sign(folder: Path, name: str, subject: str, extensions: str, ca: Path, ca_key: Path) -> tuple[Path, Path]:
    (folder / f"{name}.ext").write_text(extensions)
    _openssl("req", "-new", *KEY, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject, cwd=folder)
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", ca.name, "-CAkey", ca_key.name, "-CAcreateserial",
        "-days", DAYS, "-extfile", f"{name}.ext", "-out", f"{name}.pem",
        cwd=folder,
    )  # fmt: skip
    key = folder / f"{name}.key"
    key.chmod(0o600)  # libpq refuses a client key that others may read
    return folder / f"{name}.pem", key


def make_certificates(folder: Path, hostname: str = "localhost", ip: str = "127.0.0.1") -> Certificates:
    """A CA, a server certificate for `hostname` and `ip` signed by it (libpq's verify-full checks either,
    whichever the DSN names), a client certificate it signs, and a second CA unrelated to all."""
    if shutil.which("openssl") is None:
        raise RuntimeError("the TLS tests need the openssl command")
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = _make_ca(folder, "ca")
    other_ca, _ = _make_ca(folder, "other-ca")
    server = _sign(
        folder,
        "server",
        f"/CN={hostname}",
        f"subjectAltName = DNS:{hostname}, IP:{ip}\n"
        "basicConstraints = critical, CA:FALSE\n"
        "keyUsage = critical, digitalSignature, keyEncipherment\n"
        "extendedKeyUsage = serverAuth\n",
        ca,
        ca_key,
    )
    client = _sign(
        folder,
        "client",
        "/CN=postgres",
        "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = clientAuth\n",
        ca,
        ca_key,
    )
    return Certificates(ca, other_ca, *server, *client)
