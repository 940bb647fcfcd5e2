# MIT's GSS-API (Debian's python3-gssapi) on both ends of HTTP Negotiate over TLS with RFC 5929
# tls-server-end-point channel bindings, for test/interop/channel-bindings.test.ts.
#
#   server CERT KEY BINDCERT   HTTPS on 127.0.0.1 (port printed as {"port": N} on stdout); each
#                              request's Negotiate token is accepted with the bindings of
#                              BINDCERT (the server's own certificate, or another one to see the
#                              token refused); answers 200 {"user", "channel_bound"} or 401 {"error"}
#   client URL CAFILE bind|nobind  one GET with a token bound (or not) to the certificate the
#                              server presented on this connection; prints {"status", "body"}
#
# The test certificates are signed with SHA-256 (or ECDSA-SHA-256), so RFC 5929 §4.1 hashes them
# with SHA-256. MIT ≥ 1.19 reports GSS_C_CHANNEL_BOUND_FLAG (0x800) when the bindings matched.
import base64
import hashlib
import http.client
import http.server
import json
import ssl
import sys
import urllib.parse

import gssapi
from gssapi.raw import ChannelBindings

SPNEGO = gssapi.OID.from_int_seq('1.3.6.1.5.5.2')
CHANNEL_BOUND = 0x800


def bindings_of(der):
    return ChannelBindings(application_data=b'tls-server-end-point:' + hashlib.sha256(der).digest())


def pem_to_der(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def serve(cert, key, bindcert):
    bindings = bindings_of(pem_to_der(bindcert))

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, status, obj, challenge=None):
            body = json.dumps(obj).encode()
            self.send_response(status)
            if challenge:
                self.send_header('WWW-Authenticate', challenge)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            auth = self.headers.get('Authorization', '')
            if not auth.startswith('Negotiate '):
                self.answer(401, {'error': 'no token'}, 'Negotiate')
                return
            try:
                creds = gssapi.Credentials(usage='accept')
                ctx = gssapi.SecurityContext(creds=creds, usage='accept', channel_bindings=bindings)
                out = ctx.step(base64.b64decode(auth[len('Negotiate '):]))
                if not ctx.complete:
                    # MIT's SPNEGO acceptor answers a krb5 failure (such as bad bindings) with a
                    # reject token rather than an exception.
                    self.answer(401, {'error': 'not established: SPNEGO reject'}, 'Negotiate')
                    return
                flags = int(ctx.actual_flags)
                obj = {'user': str(ctx.initiator_name), 'channel_bound': bool(flags & CHANNEL_BOUND)}
                self.answer(200, obj, 'Negotiate ' + base64.b64encode(out).decode() if out else None)
            except Exception as e:  # MIT's refusal goes back to the test
                self.answer(401, {'error': '%s: %s' % (type(e).__name__, e)}, 'Negotiate')

    httpd = http.server.HTTPServer(('127.0.0.1', 0), Handler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    sys.stdout.write(json.dumps({'port': httpd.server_address[1]}) + '\n')
    sys.stdout.flush()
    httpd.serve_forever()


def client(url, cafile, mode):
    u = urllib.parse.urlsplit(url)
    tls = ssl.create_default_context(cafile=cafile)
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=tls)
    conn.connect()
    der = conn.sock.getpeercert(binary_form=True)
    name = gssapi.Name('HTTP@' + u.hostname, gssapi.NameType.hostbased_service)
    kw = {'channel_bindings': bindings_of(der)} if mode == 'bind' else {}
    ctx = gssapi.SecurityContext(name=name, mech=SPNEGO, usage='initiate', **kw)
    token = ctx.step()
    conn.request('GET', u.path or '/', headers={'Authorization': 'Negotiate ' + base64.b64encode(token).decode()})
    r = conn.getresponse()
    sys.stdout.write(json.dumps({'status': r.status, 'body': r.read().decode()}) + '\n')


if sys.argv[1] == 'server':
    serve(sys.argv[2], sys.argv[3], sys.argv[4])
else:
    client(sys.argv[2], sys.argv[3], sys.argv[4])
