# MIT's krb5_rd_req (libkrb5.so.3 through ctypes) on one AP-REQ: decodes it and opens its ticket
# with the default keytab (KRB5_KTNAME). argv[1]: the AP-REQ in base64. Prints one JSON line:
# {"code": 0, "client": "..."} or {"code": N, "message": MIT's text for N}. Unlike GSS-API, whose
# accept_sec_context drops the reason when an AP-REQ does not decode, this shows what MIT's
# decoder said.
import base64
import ctypes
import json
import sys

k5 = ctypes.CDLL('libkrb5.so.3')


class Data(ctypes.Structure):
    _fields_ = [('magic', ctypes.c_int32), ('length', ctypes.c_uint), ('data', ctypes.c_char_p)]


k5.krb5_get_error_message.restype = ctypes.c_char_p
raw = base64.b64decode(sys.argv[1])
ctx = ctypes.c_void_p()
assert k5.krb5_init_context(ctypes.byref(ctx)) == 0
ac = ctypes.c_void_p()
ticket = ctypes.c_void_p()
buf = ctypes.create_string_buffer(raw, len(raw))
data = Data(0, len(raw), ctypes.cast(buf, ctypes.c_char_p))
code = k5.krb5_rd_req(ctx, ctypes.byref(ac), ctypes.byref(data), None, None, None, ctypes.byref(ticket))
out = {'code': code}
if code == 0:
    # krb5_ticket: magic, server, enc_part (krb5_enc_data), enc_part2 -> client at offset 8+... ;
    # asking for the name is simpler through krb5_auth_con_getauthenticator's client.
    auth = ctypes.c_void_p()
    assert k5.krb5_auth_con_getauthenticator(ctx, ac, ctypes.byref(auth)) == 0
    # krb5_authenticator: magic (int32, padded to 8), client (krb5_principal)
    client = ctypes.cast(auth, ctypes.POINTER(ctypes.c_void_p))[1]
    name = ctypes.c_char_p()
    assert k5.krb5_unparse_name(ctx, ctypes.c_void_p(client), ctypes.byref(name)) == 0
    out['client'] = name.value.decode()
else:
    out['message'] = k5.krb5_get_error_message(ctx, code).decode()
print(json.dumps(out))
