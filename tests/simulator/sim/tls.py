"""A throw-away CA and a server certificate for 127.0.0.1, made with the openssl CLI.

The CA certificate is written to the state dir (`ca.pem`) for clients to trust; its key is
kept only until the server certificate is signed, then deleted.
"""

import os
import subprocess

_OPENSSL = "openssl"


def _run(*args, cwd):
    subprocess.run([_OPENSSL, *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def make_certificates(state_dir):
    """Writes ca.pem, server.pem and server.key into state_dir; returns (cert, key) paths."""
    work = os.path.join(state_dir, "tls")
    os.makedirs(work, mode=0o700, exist_ok=True)
    with open(os.path.join(work, "server.ext"), "w", encoding="ascii") as ext:
        ext.write("basicConstraints=critical,CA:FALSE\n"
                  "keyUsage=critical,digitalSignature,keyEncipherment\n"
                  "extendedKeyUsage=serverAuth\n"
                  "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,DNS:*.localhost\n"
                  "authorityKeyIdentifier=keyid,issuer\n"
                  "subjectKeyIdentifier=hash\n")
    _run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj",
         "/CN=evident simulator throw-away CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=work)
    _run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=work)
    _run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "server.pem", "-days", "30", "-extfile", "server.ext",
         cwd=work)
    os.remove(os.path.join(work, "ca.key"))
    os.replace(os.path.join(work, "ca.pem"), os.path.join(state_dir, "ca.pem"))
    return os.path.join(work, "server.pem"), os.path.join(work, "server.key")
