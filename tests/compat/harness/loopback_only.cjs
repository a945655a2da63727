// Loaded into both services with NODE_OPTIONS=--require. Upstream calls listen(PORT) without a
// host, which binds every interface; this pins such calls to 127.0.0.1 and leaves the rest of
// the process untouched (a listen() that names a host or a socket path is passed on as it is).
'use strict';
const net = require('net');
const listen = net.Server.prototype.listen;
const isPort = (v) => typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v));
net.Server.prototype.listen = function listenOnLoopback(...args) {
  const [first] = args;
  if (first && typeof first === 'object' && !Array.isArray(first)) {
    if (first.port !== undefined && !first.host && !first.path) {
      args[0] = Object.assign({}, first, { host: '127.0.0.1' });
    }
  } else if (isPort(first) && typeof args[1] !== 'string') {
    args.splice(1, 0, '127.0.0.1');
  }
  return listen.apply(this, args);
};
