export * from './dns.js';
export * from './env.js';
export * from './fs.js';
export * from './http-server.js';
export * from './log.js';
export * from './net.js';
export * from './server-net.js';
