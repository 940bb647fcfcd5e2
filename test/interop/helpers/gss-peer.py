# MIT's GSS-API (through Debian's python3-gssapi) as a scriptable peer for interop tests.
# argv: role (init|accept) mech (krb5|spnego) [target, e.g. HTTP@localhost] [deleg]
# stdin/stdout: one JSON object per line. Requests: {"op": "step", "token": b64|null},
# {"op": "wrap", "msg": b64, "conf": bool}, {"op": "unwrap", "token": b64},
# {"op": "mic", "msg": b64}, {"op": "verify", "msg": b64, "token": b64}.
# Every answer carries "error" (a string) when MIT refused.
import base64
import json
import sys

import gssapi

SPNEGO = gssapi.OID.from_int_seq('1.3.6.1.5.5.2')


def b64(b):
    return None if b is None else base64.b64encode(b).decode()


def unb64(s):
    return None if s is None else base64.b64decode(s)


role, mech = sys.argv[1], sys.argv[2]
mech_oid = gssapi.MechType.kerberos if mech == 'krb5' else SPNEGO
if role == 'init':
    flags = [gssapi.RequirementFlag.mutual_authentication, gssapi.RequirementFlag.replay_detection,
             gssapi.RequirementFlag.out_of_sequence_detection, gssapi.RequirementFlag.confidentiality,
             gssapi.RequirementFlag.integrity]
    if len(sys.argv) > 4 and sys.argv[4] == 'deleg':
        flags.append(gssapi.RequirementFlag.delegate_to_peer)
    name = gssapi.Name(sys.argv[3], gssapi.NameType.hostbased_service)
    ctx = gssapi.SecurityContext(name=name, mech=mech_oid, usage='initiate', flags=flags)
else:
    creds = gssapi.Credentials(usage='accept', mechs=[mech_oid])
    ctx = gssapi.SecurityContext(creds=creds, usage='accept')

for line in sys.stdin:
    req = json.loads(line)
    out = {}
    try:
        op = req['op']
        if op == 'step':
            tok = ctx.step(unb64(req.get('token')))
            out = {'token': b64(tok), 'complete': ctx.complete}
            if ctx.complete and role == 'accept':
                out['client'] = str(ctx.initiator_name)
        elif op == 'wrap':
            w = ctx.wrap(unb64(req['msg']), req['conf'])
            out = {'token': b64(w.message), 'conf': w.encrypted}
        elif op == 'unwrap':
            u = ctx.unwrap(unb64(req['token']))
            out = {'msg': b64(u.message), 'conf': u.encrypted}
        elif op == 'mic':
            out = {'token': b64(ctx.get_signature(unb64(req['msg'])))}
        elif op == 'verify':
            ctx.verify_signature(unb64(req['msg']), unb64(req['token']))
            out = {'ok': True}
    except Exception as e:  # report MIT's refusal to the test instead of dying
        out = {'error': '%s: %s' % (type(e).__name__, e)}
    sys.stdout.write(json.dumps(out) + '\n')
    sys.stdout.flush()
