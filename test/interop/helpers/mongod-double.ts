// A test double of mongod, just enough for the MongoDB driver to connect and authenticate with
// GSSAPI: the wire protocol (OP_QUERY/OP_REPLY for the first hello, OP_MSG after), hello, and
// saslStart/saslContinue whose payloads are relayed, as bytes, to a real SASL GSSAPI server
// (a fresh Cyrus sasl-sample-server per conversation). `connectionStatus` answers with the user
// that server authenticated, so a test sees who the real SASL server let in.
import { createServer, type Server, type Socket } from 'node:net';
import { BSON } from 'mongodb';
import type { SampleServerSession } from './cyrus-sample.js';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;

type Doc = Record<string, unknown>;

export interface MongodDouble {
  port: number;
  /** Commands received, in order (names only). */
  commands: string[];
  stop(): Promise<void>;
}

function header(len: number, requestId: number, responseTo: number, op: number): Uint8Array {
  const h = new Uint8Array(16);
  const v = new DataView(h.buffer);
  v.setInt32(0, len, true);
  v.setInt32(4, requestId, true);
  v.setInt32(8, responseTo, true);
  v.setInt32(12, op, true);
  return h;
}

function reply(op: number, responseTo: number, doc: Doc): Uint8Array {
  const body = BSON.serialize(doc);
  if (op === OP_QUERY) {
    const out = new Uint8Array(16 + 20 + body.length);
    out.set(header(out.length, 0, responseTo, OP_REPLY));
    new DataView(out.buffer).setInt32(32, 1, true); // numberReturned
    out.set(body, 36);
    return out;
  }
  const out = new Uint8Array(16 + 5 + body.length);
  out.set(header(out.length, 0, responseTo, OP_MSG));
  out[20] = 0; // section kind 0
  out.set(body, 21);
  return out;
}

/** The command document of an OP_QUERY or OP_MSG (kind-0 section). */
function commandOf(op: number, msg: Uint8Array): Doc {
  if (op === OP_QUERY) {
    let at = 20;
    while (msg[at] !== 0) at++; // fullCollectionName
    at += 1 + 8;
    const len = new DataView(msg.buffer, msg.byteOffset + at).getInt32(0, true);
    return BSON.deserialize(msg.subarray(at, at + len));
  }
  let at = 20;
  while (at < msg.length) {
    const kind = msg[at];
    const len = new DataView(msg.buffer, msg.byteOffset + at + 1).getInt32(0, true);
    if (kind === 0) return BSON.deserialize(msg.subarray(at + 1, at + 1 + len));
    at += 1 + len;
  }
  throw new Error('OP_MSG without a body section');
}

function hello(): Doc {
  return {
    helloOk: true,
    ismaster: true,
    isWritablePrimary: true,
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: 1,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    ok: 1,
  };
}

export async function startMongodDouble(openSasl: () => Promise<SampleServerSession>): Promise<MongodDouble> {
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    let buf = new Uint8Array(0);
    let sasl: SampleServerSession | undefined;
    let authenticated: string | undefined;
    const handle = async (op: number, msg: Uint8Array): Promise<Doc> => {
      const cmd = commandOf(op, msg);
      const name = Object.keys(cmd)[0] ?? '';
      commands.push(name);
      switch (name.toLowerCase()) {
        case 'hello':
        case 'ismaster':
          return hello();
        case 'saslstart':
        case 'saslcontinue': {
          if (name === 'saslStart') {
            sasl?.close();
            if (cmd['mechanism'] !== 'GSSAPI') return { ok: 0, code: 2, errmsg: 'only GSSAPI here' };
            sasl = await openSasl();
          }
          if (!sasl) return { ok: 0, code: 17, errmsg: 'No SASL session state found' };
          // The driver sends base64 strings; mongod answers in the kind it was given.
          const payload = cmd['payload'];
          const bytes =
            typeof payload === 'string'
              ? new Uint8Array(Buffer.from(payload, 'base64'))
              : (payload as { buffer: Uint8Array }).buffer;
          let r: { challenge: Uint8Array; done: boolean };
          try {
            r = await sasl.step(bytes);
          } catch (e) {
            return {
              ok: 0,
              code: 18,
              codeName: 'AuthenticationFailed',
              errmsg: e instanceof Error ? e.message : String(e),
            };
          }
          if (r.done) authenticated = await sasl.user();
          return {
            conversationId: 1,
            done: r.done,
            payload: Buffer.from(r.challenge).toString('base64'),
            ok: 1,
          };
        }
        case 'connectionstatus':
          return {
            authInfo: {
              authenticatedUsers:
                authenticated === undefined ? [] : [{ user: authenticated, db: '$external' }],
              authenticatedUserRoles: [],
            },
            ok: 1,
          };
        default:
          return { ok: 1 };
      }
    };
    let chain = Promise.resolve();
    sock.on('data', (chunk: Buffer) => {
      const joined = new Uint8Array(buf.length + chunk.length);
      joined.set(buf);
      joined.set(chunk, buf.length);
      buf = joined;
      while (buf.length >= 16) {
        const v = new DataView(buf.buffer, buf.byteOffset);
        const len = v.getInt32(0, true);
        if (buf.length < len) break;
        const msg = buf.slice(0, len);
        buf = buf.slice(len);
        const requestId = v.getInt32(4, true);
        const op = new DataView(msg.buffer).getInt32(12, true);
        chain = chain.then(async () => {
          let doc: Doc;
          try {
            doc = await handle(op, msg);
          } catch (e) {
            doc = { ok: 0, code: 1, errmsg: e instanceof Error ? e.message : String(e) };
          }
          if (!sock.destroyed) sock.write(reply(op, requestId, doc));
        });
      }
    });
    sock.on('close', () => {
      sockets.delete(sock);
      sasl?.close();
    });
    sock.on('error', () => sock.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    commands,
    stop: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
