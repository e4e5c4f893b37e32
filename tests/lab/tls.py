"""The lab's TLS material: a test CA, a server certificate for 127.0.0.1 and a client certificate."""

from __future__ import annotations

import os
from pathlib import Path

from .servers import _run


class TLSFiles:
    """A test CA plus a server cert (127.0.0.1 / localhost) and a client cert, made with openssl."""

    _CNF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

    def __init__(self, directory: Path):
        self.dir = directory
        self.ca = str(directory / "ca.pem")
        self.ca_key = str(directory / "ca-key.pem")
        self.server_cert = str(directory / "server-cert.pem")
        self.server_key = str(directory / "server-key.pem")
        self.client_cert = str(directory / "cert.pem")
        self.client_key = str(directory / "key.pem")

    def create(self) -> "TLSFiles":
        d = self.dir
        d.mkdir(parents=True, exist_ok=True)
        cnf = d / "openssl.cnf"
        cnf.write_text(self._CNF)
        newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        _run(["openssl", "req", "-x509", *newkey, "-config", str(cnf), "-extensions", "ca",
              "-subj", "/CN=dockyard-lab-ca", "-days", "30",
              "-keyout", self.ca_key, "-out", self.ca])
        for ext, cn, cert, key in (
            ("server", "127.0.0.1", self.server_cert, self.server_key),
            ("client", "dockyard-lab-client", self.client_cert, self.client_key),
        ):
            csr = str(d / f"{ext}.csr")
            _run(["openssl", "req", "-new", *newkey, "-config", str(cnf), "-subj", f"/CN={cn}",
                  "-keyout", key, "-out", csr])
            _run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                  "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "30",
                  "-extfile", str(cnf), "-extensions", ext, "-out", cert])
        for key in (self.ca_key, self.server_key, self.client_key):
            os.chmod(key, 0o600)
        return self

