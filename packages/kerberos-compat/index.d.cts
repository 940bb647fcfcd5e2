export * from 'spnego/kerberos';
