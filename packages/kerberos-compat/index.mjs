// The kerberos@7 API from spnego/kerberos.
export * from 'spnego/kerberos';
