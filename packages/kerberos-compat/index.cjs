'use strict';
// The kerberos@7 API (require('kerberos') in the MongoDB driver) from spnego/kerberos.
module.exports = require('spnego/kerberos');
