# Samba's embedded Heimdal ASN.1 library (libasn1-samba4, the code its KDC decodes tickets with),
# through ctypes, on one Ticket: argv[1] is the Ticket's DER in base64. Prints one JSON line:
# {"code": 0, "kvno": <as Heimdal's Krb5Int32 holds it>, "der": <Heimdal's re-encoding, base64>}
# or {"code": N, "message": Heimdal's text for N} when decode_Ticket refused it.
import base64
import ctypes
import glob
import json
import sys

samba_lib = sorted(glob.glob('/usr/lib/*/samba/libasn1-samba4.so.0'))[0].rsplit('/', 1)[0]
lib = ctypes.CDLL(samba_lib + '/libasn1-samba4.so.0')
krb5 = ctypes.CDLL(samba_lib + '/libkrb5-samba4.so.0')
raw = base64.b64decode(sys.argv[1])
# Ticket: tkt_vno, realm, sname {name_type, name_string {len, val}}, enc_part {etype, *kvno,
# cipher {length, data}}: the kvno pointer sits at byte 48 on LP64. The buffer is larger than
# the struct so a layout surprise cannot write past it.
ticket = ctypes.create_string_buffer(256)
size = ctypes.c_size_t()
code = lib.decode_Ticket(raw, ctypes.c_size_t(len(raw)), ticket, ctypes.byref(size))
out = {'code': code}
if code == 0:
    kvno_ptr = ctypes.c_void_p.from_buffer(ticket, 48).value
    out['kvno'] = None if not kvno_ptr else ctypes.c_int32.from_address(kvno_ptr).value
    lib.length_Ticket.restype = ctypes.c_size_t
    n = lib.length_Ticket(ticket)
    buf = ctypes.create_string_buffer(n)
    # Heimdal's encoders write backwards from the last byte of the buffer.
    last = ctypes.c_void_p(ctypes.addressof(buf) + n - 1)
    assert lib.encode_Ticket(last, ctypes.c_size_t(n), ticket, ctypes.byref(size)) == 0
    out['der'] = base64.b64encode(buf.raw[:n]).decode()
    lib.free_Ticket(ticket)
else:
    ctx = ctypes.c_void_p()
    assert krb5.krb5_init_context(ctypes.byref(ctx)) == 0
    krb5.krb5_get_error_message.restype = ctypes.c_char_p
    out['message'] = krb5.krb5_get_error_message(ctx, code).decode()
print(json.dumps(out))
