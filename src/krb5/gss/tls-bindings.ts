// RFC 5929 §4 `tls-server-end-point` channel bindings: the application data of the GSS channel
// bindings (RFC 4121 §4.1.1.2) that tie a Kerberos authenticator to the TLS server certificate the
// client saw. The hash is the certificate's signature hash, except that MD5 and SHA-1 become
// SHA-256 (§4.1); a signature with no single hash of its own (Ed25519, Ed448) uses SHA-256, as
// Windows and OpenSSL-based clients do.
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { readOid, root, seqOf, TagClass, UniversalTag } from '../../asn1/der.js';
import { Asn1Error, ChannelBindingError } from '../../errors.js';

type Hash = (b: Uint8Array) => Uint8Array;

/** signatureAlgorithm OID → the hash tls-server-end-point uses. */
const BY_SIGNATURE: ReadonlyMap<string, Hash> = new Map<string, Hash>([
  // RSA PKCS#1 v1.5 (RFC 8017 / RFC 4055)
  ['1.2.840.113549.1.1.4', sha256], // md5WithRSAEncryption → SHA-256
  ['1.2.840.113549.1.1.5', sha256], // sha1WithRSAEncryption → SHA-256
  ['1.2.840.113549.1.1.14', sha224],
  ['1.2.840.113549.1.1.11', sha256],
  ['1.2.840.113549.1.1.12', sha384],
  ['1.2.840.113549.1.1.13', sha512],
  // ECDSA (RFC 5758)
  ['1.2.840.10045.4.1', sha256], // ecdsa-with-SHA1 → SHA-256
  ['1.2.840.10045.4.3.1', sha224],
  ['1.2.840.10045.4.3.2', sha256],
  ['1.2.840.10045.4.3.3', sha384],
  ['1.2.840.10045.4.3.4', sha512],
  // DSA
  ['1.2.840.10040.4.3', sha256], // dsa-with-sha1 → SHA-256
  ['2.16.840.1.101.3.4.3.1', sha224],
  ['2.16.840.1.101.3.4.3.2', sha256],
  // EdDSA (RFC 8410): no separate hash; SHA-256
  ['1.3.101.112', sha256],
  ['1.3.101.113', sha256],
]);

/** Digest OIDs (NIST, RFC 5754) of RSASSA-PSS parameters. */
const BY_DIGEST: ReadonlyMap<string, Hash> = new Map<string, Hash>([
  ['1.3.14.3.2.26', sha256], // SHA-1 → SHA-256
  ['2.16.840.1.101.3.4.2.4', sha224],
  ['2.16.840.1.101.3.4.2.1', sha256],
  ['2.16.840.1.101.3.4.2.2', sha384],
  ['2.16.840.1.101.3.4.2.3', sha512],
]);

const RSASSA_PSS = '1.2.840.113549.1.1.10';
const PREFIX = new TextEncoder().encode('tls-server-end-point:');
/** A certificate larger than this is not one a TLS stack handed us. */
const MAX_CERT = 64 * 1024;

function badCert(message: string, cause?: unknown): ChannelBindingError {
  return new ChannelBindingError('BAD_CERTIFICATE', `tls-server-end-point: ${message}`, {
    hint: 'channel bindings need the DER X.509 certificate of the TLS server; turn them off with channelBindings: false',
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The hash RFC 5929 §4.1 picks for a DER X.509 certificate. */
function hashFor(cert: Uint8Array): Hash {
  if (cert.length === 0 || cert.length > MAX_CERT) throw badCert(`a certificate of ${cert.length} bytes`);
  try {
    // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, signatureValue }
    const top = seqOf(root(cert, 'Certificate'));
    if (top.length !== 3) throw badCert('not an X.509 certificate');
    const alg = seqOf(top[1]!);
    if (alg.length === 0) throw badCert('no signature algorithm');
    const oid = readOid(alg[0]!);
    if (oid === RSASSA_PSS) {
      // RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] AlgorithmIdentifier DEFAULT sha1, ... }
      const params = alg[1];
      if (params === undefined) return sha256;
      const fields = seqOf(params);
      const h = fields[0];
      if (h === undefined || h.node.cls !== TagClass.CONTEXT || h.node.tag !== 0) return sha256; // SHA-1 default
      const inner = h.node.children[0];
      if (inner === undefined || inner.tag !== UniversalTag.SEQUENCE)
        throw badCert('bad RSASSA-PSS parameters');
      const digest = readOid({
        node: inner.children[0] ?? inner,
        field: 'Certificate.signatureAlgorithm.hash',
      });
      const hash = BY_DIGEST.get(digest);
      if (!hash) throw badCert(`RSASSA-PSS with digest ${digest} is not supported`);
      return hash;
    }
    const hash = BY_SIGNATURE.get(oid);
    if (!hash) throw badCert(`signature algorithm ${oid} is not supported`);
    return hash;
  } catch (e) {
    if (e instanceof ChannelBindingError) throw e;
    if (e instanceof Asn1Error) throw badCert(`undecodable certificate (${e.message})`, e);
    throw e;
  }
}

/**
 * The RFC 5929 `tls-server-end-point` channel-binding data of a server certificate (DER):
 * `"tls-server-end-point:" || H(cert)`, ready for `channelBindings` of a GSS context.
 */
export function tlsServerEndPoint(certificate: Uint8Array): Uint8Array {
  const digest = hashFor(certificate)(certificate);
  const out = new Uint8Array(PREFIX.length + digest.length);
  out.set(PREFIX, 0);
  out.set(digest, PREFIX.length);
  return out;
}
